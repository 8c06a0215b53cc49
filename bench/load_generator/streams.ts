/**
 * The load generator's streams: raw TCP, `GET /stream?history=0 HTTP/1.1`
 * written by hand, the response head parsed, then chunked coding
 * (test/harness/chunked_parser.ts) and SSE (bench/sse_bytes.ts). At 10–20
 * thousand sockets `fetch` costs far more per socket than the servers do.
 * Message events go to the current tracker (a round or a posting check).
 */

import { createChunkedDecoder } from "../../test/harness/chunked_parser.ts";
import {
  createSseSplitter,
  newBenchEvent,
  readBenchEvent,
  type SseSplitter,
} from "../sse_bytes.ts";
import {
  type CloseResult,
  countError,
  type OpenCommand,
  type OpenResult,
} from "./protocol.ts";

const READ_BUFFER = 8 * 1024;
const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Receives the message events of the streams during a round. */
export interface Tracker {
  /** `at`: performance.now() of the read that carried the event. */
  onMessage(
    stream: Stream,
    id: number,
    round: number,
    seq: number,
    at: number,
  ): void;
}

let tracker: Tracker | null = null;
let strayOutsideRounds = 0;
// Time of the read being parsed: every event in one read was parsed "now".
let readAt = 0;
const event = newBenchEvent();

/** Sends the streams' message events to `next`; null = outside any round. */
export function setTracker(next: Tracker | null) {
  tracker = next;
}

/** One SSE stream on its own connection. */
export class Stream {
  conn: Deno.Conn | null = null;
  /** This stream's slot in the current round's bookkeeping. */
  slot = 0;
  lastId = 0;
  ids: number[] = [];
  closing = false;
  ended = false;
  private head: Uint8Array | null = new Uint8Array(0);
  private body: ((bytes: Uint8Array) => void) | null = null;
  private splitter: SseSplitter;
  private subscribed!: (error: Error | null) => void;
  readonly ready: Promise<Error | null>;
  readonly done: Promise<void>;
  private finish!: () => void;

  constructor() {
    this.splitter = createSseSplitter((bytes) => this.onEvent(bytes));
    this.ready = new Promise((resolve) => (this.subscribed = resolve));
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  async open(port: number): Promise<Error | null> {
    try {
      this.conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await this.conn.write(enc.encode(
        `GET /stream?history=0 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`,
      ));
    } catch (error) {
      this.end(error instanceof Error ? error : new Error(String(error)));
      return await this.ready;
    }
    this.readLoop();
    return await this.ready;
  }

  close() {
    this.closing = true;
    try {
      this.conn?.close();
    } catch {
      // Already closed by the read loop.
    }
  }

  private async readLoop() {
    const buffer = new Uint8Array(READ_BUFFER);
    let error: Error | null = null;
    try {
      for (;;) {
        const n = await this.conn!.read(buffer);
        if (n === null) break;
        readAt = performance.now();
        this.feed(buffer.subarray(0, n));
      }
    } catch (e) {
      if (!this.closing) error = e instanceof Error ? e : new Error(String(e));
    }
    this.end(error ?? new Error("stream ended by the server"));
  }

  private end(error: Error) {
    if (this.ended) return;
    this.ended = true;
    this.subscribed(error);
    if (!this.closing) this.close();
    this.finish();
  }

  private feed(bytes: Uint8Array) {
    if (this.body !== null) return this.body(bytes);
    const head = new Uint8Array(this.head!.length + bytes.length);
    head.set(this.head!);
    head.set(bytes, this.head!.length);
    const text = latin1.decode(head);
    const end = text.indexOf("\r\n\r\n");
    if (end === -1) {
      this.head = head;
      return;
    }
    this.head = null;
    const lines = text.slice(0, end).split("\r\n");
    const status = lines[0].match(/^HTTP\/1\.1 (\d{3})/);
    if (status === null || status[1] !== "200") {
      throw new Error(`GET /stream answered ${lines[0]}`);
    }
    const chunked = lines.some((l) =>
      /^transfer-encoding:\s*chunked\s*$/i.test(l)
    );
    if (chunked) {
      const decoder = createChunkedDecoder((piece) =>
        this.splitter.push(piece)
      );
      this.body = (b) => {
        decoder.push(b);
      };
    } else {
      this.body = (b) => this.splitter.push(b);
    }
    this.body(head.subarray(end + 4));
  }

  private onEvent(bytes: Uint8Array) {
    readBenchEvent(bytes, event);
    if (event.isHello) {
      this.subscribed(null);
      return;
    }
    if (!event.isMessage) return;
    if (tracker === null) strayOutsideRounds++;
    else tracker.onMessage(this, event.id, event.round, event.seq, readAt);
  }
}

const streams: Stream[] = [];

/** The streams still open. */
export function liveStreams(): Stream[] {
  return streams.filter((s) => !s.ended);
}

/** The "open" command: connects streams until all are subscribed or the time is up. */
export async function open(cmd: OpenCommand): Promise<OpenResult> {
  const start = performance.now();
  const errors: Record<string, number> = {};
  let opened = 0;
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < cmd.count) {
      next++;
      const stream = new Stream();
      streams.push(stream);
      const error = await stream.open(cmd.port);
      if (error === null) opened++;
      else {
        failed++;
        countError(errors, error);
      }
    }
  };
  const workers = Array.from(
    { length: Math.min(cmd.concurrency, cmd.count) },
    worker,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    Promise.all(workers).then(() => false),
    new Promise<boolean>((
      r,
    ) => (timer = setTimeout(() => r(true), cmd.timeoutMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    // Stop starting new ones; those in flight are left to the next close.
    failed += cmd.count - opened - failed;
    next = cmd.count;
    countError(errors, `timed out after ${cmd.timeoutMs} ms`);
  }
  return {
    requested: cmd.count,
    opened,
    failed,
    ms: Math.round(performance.now() - start),
    errors,
    openNow: liveStreams().length,
  };
}

/** The "close" command: closes every stream and waits for them to end. */
export async function closeAll(): Promise<CloseResult> {
  const all = streams.splice(0);
  for (const s of all) s.close();
  await Promise.all(all.map((s) => s.done));
  const stray = strayOutsideRounds;
  strayOutsideRounds = 0;
  return { closed: all.length, strayOutsideRounds: stray };
}
