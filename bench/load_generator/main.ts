/**
 * The benchmark's load generator, run by bench/main.ts in processes of its
 * own so it never shares an event loop with a server it measures.
 *
 * Streams (streams.ts) and POSTs (poster.ts) are raw HTTP/1.1 over TCP; a
 * delivery round (rounds.ts) spreads its streams over several generators;
 * the posting check (posting.ts) measures POSTs per second and the ordering
 * guarantee; the changes check (changes.ts) measures edits and reactions
 * per second. Protocol (protocol.ts): one JSON command per line on stdin, one
 * JSON reply per line on stdout.
 */

import process from "node:process";
import { changes } from "./changes.ts";
import { post } from "./posting.ts";
import type {
  GeneratorCommand,
  GeneratorCost,
  GeneratorReply,
} from "./protocol.ts";
import { collect, send, track } from "./rounds.ts";
import { closeAll, open } from "./streams.ts";

async function run(cmd: GeneratorCommand): Promise<unknown> {
  switch (cmd.op) {
    case "open":
      return await open(cmd);
    case "track":
      return track(cmd);
    case "send":
      return await send(cmd);
    case "collect":
      return await collect(cmd);
    case "post":
      return await post(cmd);
    case "changes":
      return await changes(cmd);
    case "close":
      return await closeAll();
    case "exit":
      return await closeAll();
  }
}

async function main() {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let pending = "";
  for await (const text of lines) {
    pending += text;
    let newline: number;
    while ((newline = pending.indexOf("\n")) !== -1) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line === "") continue;
      const { id, ...cmd } = JSON.parse(line) as GeneratorCommand & {
        id: number;
      };
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      let reply: GeneratorReply;
      const cost = (): GeneratorCost => {
        const cpu = process.cpuUsage(cpu0);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        const wallMs = performance.now() - wall0;
        return {
          cpuMs: Math.round(cpuMs),
          wallMs: Math.round(wallMs),
          cpuPercent: wallMs > 0 ? Math.round((cpuMs / wallMs) * 100) : 0,
        };
      };
      try {
        const result = await run(cmd as GeneratorCommand);
        reply = { id, ok: true, result, cost: cost() };
      } catch (error) {
        reply = {
          id,
          ok: false,
          error: error instanceof Error
            ? error.stack ?? error.message
            : String(error),
          cost: cost(),
        };
      }
      console.log(JSON.stringify(reply));
      if (cmd.op === "exit") Deno.exit(0);
    }
  }
  // The runner went away: do not linger with thousands of sockets.
  await closeAll();
  Deno.exit(0);
}

if (import.meta.main) await main();
