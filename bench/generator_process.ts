/** One load-generator process (bench/load_generator/main.ts) and its JSON-lines channel. */

import { join } from "node:path";
import type {
  GeneratorCommand,
  GeneratorCost,
  GeneratorReply,
} from "./load_generator/protocol.ts";
import { baseEnv, RAISE_FD_LIMIT, ROOT } from "./servers.ts";
import { track } from "./teardown.ts";

const GENERATOR_MAIN = join(ROOT, "bench", "load_generator", "main.ts");
const enc = new TextEncoder();

/** One load-generator process and its JSON-lines channel. */
export class GeneratorProcess {
  private nextId = 1;
  private waiting = new Map<number, (reply: GeneratorReply) => void>();
  private stderrTail = "";
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly exited: Promise<void>;
  readonly stop: () => Promise<void>;

  private constructor(readonly child: Deno.ChildProcess) {
    this.writer = child.stdin.getWriter();
    const out = this.readReplies();
    const err = this.readStderr();
    this.exited = (async () => {
      await child.status;
      await Promise.all([out, err]);
      for (const [, resolve] of this.waiting) {
        resolve({
          id: 0,
          ok: false,
          error: `load generator exited: ${this.stderrTail.trim()}`,
          cost: { cpuMs: 0, wallMs: 0, cpuPercent: 0 },
        });
      }
      this.waiting.clear();
    })();
    this.stop = track(async () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await this.exited;
      await this.writer.close().catch(() => {});
    });
  }

  /** Spawns a generator (it compiles on its first command). */
  static start(): GeneratorProcess {
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        RAISE_FD_LIMIT,
        Deno.execPath(),
        "run",
        "--allow-net=127.0.0.1",
        GENERATOR_MAIN,
      ],
      env: baseEnv(),
      clearEnv: true,
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new GeneratorProcess(child);
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Sends a command; throws on an error reply or after `timeoutMs`. */
  async call<T>(
    cmd: GeneratorCommand,
    timeoutMs: number,
  ): Promise<{ result: T; cost: GeneratorCost }> {
    const id = this.nextId++;
    const reply = new Promise<GeneratorReply>((resolve) =>
      this.waiting.set(id, resolve)
    );
    await this.writer.write(enc.encode(JSON.stringify({ id, ...cmd }) + "\n"));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = await Promise.race([
      reply,
      new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (answer === null) {
      this.waiting.delete(id);
      throw new GeneratorTimeout(
        `load generator ${this.pid}: "${cmd.op}" took over ${timeoutMs} ms`,
      );
    }
    if (!answer.ok) throw new Error(answer.error);
    return { result: answer.result as T, cost: answer.cost };
  }

  private async readReplies() {
    let pending = "";
    const text = this.child.stdout.pipeThrough(new TextDecoderStream());
    for await (const chunk of text) {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const reply = JSON.parse(line) as GeneratorReply;
        this.waiting.get(reply.id)?.(reply);
        this.waiting.delete(reply.id);
      }
    }
  }

  private async readStderr() {
    const text = this.child.stderr.pipeThrough(new TextDecoderStream());
    for await (const chunk of text) {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    }
  }
}

class GeneratorTimeout extends Error {
  override name = "GeneratorTimeout";
}
