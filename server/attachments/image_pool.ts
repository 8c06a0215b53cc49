/**
 * Pictures processed in workers (image_worker.ts), one job per worker at a
 * time, at most `size` workers, started on the first upload. Where workers
 * cannot start, pictures are processed inline as before.
 */
import { processImage, type ProcessResult } from "./image_process.ts";
import type { ImageJob } from "./image_worker.ts";

/** Checks and strips an upload (processImage's signature). */
export type ProcessPicture = (
  bytes: Uint8Array<ArrayBuffer>,
  declared: string | null,
  maxPixels: number,
) => Promise<ProcessResult>;

/** A pool of picture workers. */
export interface ImagePool {
  process: ProcessPicture;
  /** Ends the workers; jobs still running are answered with an error. */
  close(): void;
}

type Reply = { job: number; result?: ProcessResult; error?: string };

/** A pool of at most `size` workers. */
export function createImagePool(size: number): ImagePool {
  const idle: Worker[] = [];
  const all = new Set<Worker>();
  const waiting: ((worker: Worker | null) => void)[] = [];
  const pending = new Map<number, (reply: Reply) => void>();
  let nextJob = 0;
  let closed = false;
  let inline = false;

  const start = (): Worker | null => {
    try {
      const worker = new Worker(
        new URL("./image_worker.ts", import.meta.url),
        { type: "module" },
      );
      worker.onmessage = (event: MessageEvent<Reply>) => {
        pending.get(event.data.job)?.(event.data);
      };
      all.add(worker);
      return worker;
    } catch {
      // No workers here: process inline.
      inline = true;
      return null;
    }
  };
  const acquire = (): Promise<Worker | null> => {
    const ready = idle.pop();
    if (ready) return Promise.resolve(ready);
    if (all.size < size) return Promise.resolve(start());
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = (worker: Worker) => {
    const next = waiting.shift();
    if (next) next(worker);
    else idle.push(worker);
  };

  return {
    async process(bytes, declared, maxPixels) {
      if (closed) throw new Error("the picture pool is closed");
      if (inline) return await processImage(bytes, declared, maxPixels);
      const worker = await acquire();
      if (worker === null) {
        return await processImage(bytes, declared, maxPixels);
      }
      const job = nextJob++;
      try {
        const reply = await new Promise<Reply>((resolve) => {
          pending.set(job, resolve);
          const message: ImageJob = { job, bytes, declared, maxPixels };
          worker.postMessage(message, [bytes.buffer]);
        });
        if (reply.result === undefined) {
          throw new Error(`picture worker failed: ${reply.error}`);
        }
        return reply.result;
      } finally {
        pending.delete(job);
        if (!closed) release(worker);
      }
    },
    close() {
      closed = true;
      for (const worker of all) worker.terminate();
      all.clear();
      for (const [job, answer] of pending) {
        answer({ job, error: "the instance is stopping" });
      }
      // Jobs waiting for a worker run inline: their requests must end.
      for (const next of waiting.splice(0)) next(null);
    },
  };
}
