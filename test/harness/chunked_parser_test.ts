import assert from "node:assert/strict";
import {
  ChunkedEncodingError,
  createChunkedDecoder,
} from "./chunked_parser.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Feeds `wire` cut at the given offsets; returns the body and the bytes left over. */
function decodeSplit(
  wire: string,
  cuts: number[],
): { body: string; rest: string; done: boolean } {
  const bytes = enc.encode(wire);
  let body = "";
  let rest = "";
  const decoder = createChunkedDecoder((piece) => {
    body += dec.decode(piece);
  });
  let start = 0;
  for (const end of [...cuts, bytes.length]) {
    const part = bytes.subarray(start, end);
    const used = decoder.push(part);
    rest += dec.decode(part.subarray(used));
    start = end;
  }
  return { body, rest, done: decoder.done };
}

const WIRE = "5\r\nhello\r\n1A;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n" +
  "0\r\nTrailer: x\r\n\r\nHTTP/1.1 200 OK";

Deno.test("chunked decoder gives the same body wherever the input is cut", () => {
  const expected = "helloabcdefghijklmnopqrstuvwxyz";
  const n = enc.encode(WIRE).length;
  for (let a = 0; a <= n; a++) {
    for (const b of [a, Math.min(n, a + 1), Math.min(n, a + 7)]) {
      const out = decodeSplit(WIRE, [a, b]);
      assert.equal(out.body, expected, `cut at ${a},${b}`);
      assert.equal(out.rest, "HTTP/1.1 200 OK", `cut at ${a},${b}`);
      assert.equal(out.done, true);
    }
  }
});

Deno.test("chunked decoder byte by byte, with uppercase hex and no trailer", () => {
  const wire = "A\r\n0123456789\r\n0\r\n\r\n";
  const cuts = Array.from({ length: wire.length }, (_, i) => i);
  const out = decodeSplit(wire, cuts);
  assert.deepEqual(out, { body: "0123456789", rest: "", done: true });
});

Deno.test("chunked decoder is not done before the last chunk", () => {
  const out = decodeSplit("3\r\nabc\r\n", []);
  assert.deepEqual(out, { body: "abc", rest: "", done: false });
});

Deno.test("chunked decoder rejects malformed input", () => {
  for (
    const wire of [
      "zz\r\n",
      "\r\n",
      "3\r\nabcX\r\n",
      "3\rX",
      "fffffffffffff\r\n",
    ]
  ) {
    assert.throws(
      () => decodeSplit(wire, []),
      ChunkedEncodingError,
      JSON.stringify(wire),
    );
  }
});
