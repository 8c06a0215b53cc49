import assert from "node:assert/strict";
import { encodeMessageEvent, formatEvent } from "../server/live/sse_format.ts";
import { createSseParser } from "../test/harness/sse_parser.ts";
import { seededRandom } from "../test/harness/seeded_random.ts";
import {
  createSseSplitter,
  newBenchEvent,
  readBenchEvent,
} from "./sse_bytes.ts";

const enc = new TextEncoder();

interface Seen {
  event: string;
  id: number;
  round: number;
  seq: number;
}

function stream(): Uint8Array {
  const parts: Uint8Array[] = [
    enc.encode("retry: 2000\n\n"),
    enc.encode(formatEvent({ event: "hello", data: '{"heartbeatMs":15000}' })),
    enc.encode(": ping\n\n"),
  ];
  for (let i = 1; i <= 40; i++) {
    parts.push(encodeMessageEvent({
      id: 100 + i,
      author: i % 7 === 0 ? 'a "bench-1-2" fan' : "bench",
      // Every fifth text is not one of ours and must read as seq -1.
      text: i % 5 === 0 ? `bench-3-${i}x` : `bench-3-${i}`,
      createdAt: "2026-01-01T00:00:00.000Z",
      clientId: null,
    }));
    if (i % 9 === 0) {
      parts.push(enc.encode(formatEvent({
        event: "presence",
        data: '{"online":3}',
      })));
    }
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** What sse_parser.ts makes of the same bytes: the reference. */
function reference(bytes: Uint8Array): Seen[] {
  const seen: Seen[] = [];
  const parser = createSseParser({
    onEvent(e) {
      let round = -1;
      let seq = -1;
      if (e.event === "message") {
        const m = JSON.parse(e.data).text.match(/^bench-(\d+)-(\d+)$/);
        if (m) [round, seq] = [Number(m[1]), Number(m[2])];
      }
      seen.push({ event: e.event, id: Number(e.id ?? -1), round, seq });
    },
  });
  parser.push(new TextDecoder().decode(bytes));
  return seen;
}

Deno.test("the byte reader agrees with sse_parser.ts however reads cut the stream", () => {
  const bytes = stream();
  const expected = reference(bytes);
  assert.equal(expected.filter((e) => e.seq !== -1).length, 32);
  const random = seededRandom(5);
  for (let trial = 0; trial < 200; trial++) {
    const seen: Seen[] = [];
    const out = newBenchEvent();
    const splitter = createSseSplitter((event) => {
      readBenchEvent(event, out);
      if (!out.hasData) return;
      seen.push({
        event: out.isHello ? "hello" : out.isMessage ? "message" : "other",
        id: out.id,
        round: out.round,
        seq: out.seq,
      });
    });
    let at = 0;
    while (at < bytes.length) {
      // Mostly small pieces, sometimes one byte, sometimes large.
      const size = trial === 0 ? 1 : 1 + Math.floor(random() ** 3 * 600);
      splitter.push(bytes.subarray(at, at + size));
      at += size;
    }
    assert.deepEqual(
      seen,
      expected.map((e) => ({
        ...e,
        event: ["hello", "message"].includes(e.event) ? e.event : "other",
      })),
      `trial ${trial}`,
    );
  }
});
