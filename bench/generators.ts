/**
 * The run's load generators, driven together: streams are spread over them,
 * closed on all of them, and a generator that stops answering is replaced.
 */

import { GeneratorProcess } from "./generator_process.ts";
import type { CloseResult, OpenResult } from "./load_generator/protocol.ts";
import { note } from "./report.ts";
import { track } from "./teardown.ts";

/** Generator processes; two, so the largest idle case is not capped by one process's file limit. */
export const GENERATORS = 2;
/** Streams each generator connects at once. */
const CONNECT_CONCURRENCY = 256;

/** What opening streams took, over every generator used. */
export interface Opened {
  opened: number;
  failed: number;
  ms: number;
  /** Highest CPU of one generator, % of a core. */
  cpu: number;
}

/** The load-generator processes of a run. */
export class LoadGenerators {
  private rounds = 0;

  private constructor(private processes: GeneratorProcess[]) {}

  /** Starts GENERATORS processes, stopped at teardown; resolves once each has answered. */
  static async start(): Promise<LoadGenerators> {
    const generators = new LoadGenerators(
      Array.from({ length: GENERATORS }, () => GeneratorProcess.start()),
    );
    // The first command also proves each one started (and compiled).
    await Promise.all(
      generators.processes.map((g) => g.call({ op: "close" }, 60_000)),
    );
    track(async () => {
      for (const g of generators.processes) await g.stop();
    });
    return generators;
  }

  /** The processes, the first of which posts in a delivery round. */
  get all(): readonly GeneratorProcess[] {
    return this.processes;
  }

  /** A fresh round number, which tags the texts of a round's messages. */
  nextRound(): number {
    return ++this.rounds;
  }

  /** Closes every stream; a generator that does not answer is replaced. */
  async closeStreams() {
    await Promise.all(this.processes.map(async (g, i) => {
      try {
        const { result } = await g.call<CloseResult>({ op: "close" }, 30_000);
        if (result.strayOutsideRounds > 0) {
          note(
            `generator ${i}: ${result.strayOutsideRounds} message events outside any round`,
          );
        }
      } catch {
        await g.stop();
        this.processes[i] = GeneratorProcess.start();
        await this.processes[i].call({ op: "close" }, 60_000);
      }
    }));
  }

  /** Opens `count` streams spread over the first `spread` generators. */
  async openStreams(
    port: number,
    count: number,
    spread: number,
  ): Promise<Opened> {
    const used = this.processes.slice(0, spread);
    const t0 = performance.now();
    const replies = await Promise.all(used.map((g, i) => {
      const share = Math.floor(count / used.length) +
        (i < count % used.length ? 1 : 0);
      return g.call<OpenResult>({
        op: "open",
        port,
        count: share,
        concurrency: CONNECT_CONCURRENCY,
        timeoutMs: 60_000 + share * 2,
      }, 90_000 + share * 2);
    }));
    const ms = Math.round(performance.now() - t0);
    const opened = replies.reduce((n, r) => n + r.result.opened, 0);
    const failed = replies.reduce((n, r) => n + r.result.failed, 0);
    for (const r of replies) {
      for (const [error, n] of Object.entries(r.result.errors)) {
        note(`open: ${n} × ${error}`);
      }
    }
    return {
      opened,
      failed,
      ms,
      cpu: Math.max(...replies.map((r) => r.cost.cpuPercent)),
    };
  }
}
