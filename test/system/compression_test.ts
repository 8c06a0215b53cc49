// Over a real socket (fetch would decode for us): the built client goes out
// precompressed as the client asks, with the right Content-Length; the event
// stream never is.
import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { buildClient } from "../../tools/build_client.ts";
import { startTestInstance, withTestDatabase } from "../harness/fixtures.ts";

interface RawResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** One HTTP/1.1 request on its own connection; reads the head, then Content-Length bytes of body (none when `headOnly`). */
async function rawRequest(
  base: string,
  path: string,
  headers: Record<string, string>,
  headOnly = false,
): Promise<RawResponse> {
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: Number(new URL(base).port),
  });
  try {
    const lines = Object.entries({ Host: "x", ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`).join("");
    await conn.write(
      new TextEncoder().encode(`GET ${path} HTTP/1.1\r\n${lines}\r\n`),
    );
    let data = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    const more = async () => {
      const n = await conn.read(chunk);
      if (n === null) throw new Error("connection closed early");
      const next = new Uint8Array(data.length + n);
      next.set(data);
      next.set(chunk.subarray(0, n), data.length);
      data = next;
    };
    const endOfHead = () =>
      data.findIndex((_, i) =>
        data[i] === 13 && data[i + 1] === 10 && data[i + 2] === 13 &&
        data[i + 3] === 10
      );
    while (endOfHead() === -1) await more();
    const at = endOfHead();
    const [statusLine, ...fields] = new TextDecoder()
      .decode(data.subarray(0, at)).split("\r\n");
    const parsed = new Headers();
    for (const field of fields) {
      const colon = field.indexOf(":");
      parsed.append(field.slice(0, colon), field.slice(colon + 1).trim());
    }
    const status = Number(statusLine.split(" ")[1]);
    if (headOnly) return { status, headers: parsed, body: new Uint8Array() };
    const length = Number(parsed.get("content-length"));
    assert.ok(Number.isInteger(length), `${path}: no Content-Length`);
    while (data.length < at + 4 + length) await more();
    return {
      status,
      headers: parsed,
      body: data.subarray(at + 4, at + 4 + length),
    };
  } finally {
    conn.close();
  }
}

Deno.test("over HTTP: built files come as brotli or gzip by Accept-Encoding and decode to the built bytes; /stream is never compressed", async () => {
  const dist = await Deno.makeTempDir({ prefix: "plaza_wire_" });
  try {
    const built = await buildClient({ outDir: dist });
    await withTestDatabase(async (url) => {
      const plaza = await startTestInstance(url, { DIST_DIR: dist });
      try {
        for (
          const [path, file] of [
            ["/", "index.html"],
            [`/${built.js.path}`, built.js.path],
            [`/${built.css.path}`, built.css.path],
            ["/sw.js", "sw.js"],
            ["/manifest.webmanifest", "manifest.webmanifest"],
          ]
        ) {
          const original = await Deno.readFile(`${dist}/${file}`);
          const br = await rawRequest(plaza.url, path, {
            "Accept-Encoding": "gzip, deflate, br, zstd",
          });
          assert.equal(br.status, 200, path);
          assert.equal(br.headers.get("content-encoding"), "br", path);
          assert.deepEqual(
            new Uint8Array(brotliDecompressSync(br.body)),
            original,
            path,
          );
          const gz = await rawRequest(plaza.url, path, {
            "Accept-Encoding": "gzip",
          });
          assert.equal(gz.headers.get("content-encoding"), "gzip", path);
          assert.deepEqual(new Uint8Array(gunzipSync(gz.body)), original, path);
          const plain = await rawRequest(plaza.url, path, {});
          assert.equal(plain.headers.get("content-encoding"), null, path);
          assert.deepEqual(plain.body, original, path);
          for (const res of [br, gz, plain]) {
            assert.equal(res.headers.get("vary"), "Accept-Encoding", path);
          }
          if (path === `/${built.js.path}`) {
            // What the build reports is what goes over the wire.
            assert.equal(br.body.length, built.js.brotliBytes);
            assert.equal(gz.body.length, built.js.gzipBytes);
          }
        }
        const stream = await rawRequest(
          plaza.url,
          "/stream?history=0",
          { "Accept-Encoding": "gzip, br" },
          true,
        );
        assert.equal(stream.status, 200);
        assert.match(
          stream.headers.get("content-type") ?? "",
          /^text\/event-stream/,
        );
        assert.equal(stream.headers.get("content-encoding"), null);
      } finally {
        await plaza.close();
      }
    });
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
});
