/**
 * Fuzzes a running Plaza instance over real TCP (127.0.0.1, a fresh test
 * database): random and malformed requests from 8 clients at once, with a
 * share of valid posts mixed in. It checks the HTTP contract of docs/api.md:
 *
 * - no answer is ever a 5xx (the database is up, so not even a 503);
 * - every 4xx from the app is JSON `{"error": "<sentence>"}` (405 with Allow,
 *   429 with Retry-After); rejections by Deno's HTTP layer itself (malformed
 *   request lines, oversized headers: a bare 400 before the app runs) are
 *   accepted but counted apart;
 * - answers the request predicts are the ones given (e.g. 413 past 16 KiB,
 *   415 for other content types, 201 for a valid post);
 * - the server logs no unhandled error (a 500 nobody saw is still a 500);
 * - nothing hangs (every request has a 10 s timeout);
 * - afterwards the instance still answers /healthz, every stored row passes
 *   validateMessageInput unchanged (no garbage stored), the rows are exactly
 *   the messages that got a 201 (less those a fuzzed DELETE with the admin
 *   token removed), GET /messages pages through the same rows, no stream
 *   stays counted, and a normal chat (stream, post, receive) works.
 *
 * The one 5xx allowed is the app's documented 503 text for GET / when no
 * client is built, which is the case in tests (counted apart).
 *
 * Environment:
 * - `FUZZ_SECONDS`: how long to send requests, default 25 (the whole test
 *   then takes about 30 s). A longer soak:
 *   `FUZZ_SECONDS=600 deno task test test/fuzz/fuzz_test.ts`.
 * - `FUZZ_SEED`: the seed, a 32-bit unsigned integer. Every run prints the
 *   one it used; set it to send the same requests again.
 * - `FUZZ_CASE`: with `FUZZ_SEED`, send only case number N of that run and
 *   print the request and the answer.
 *
 * Each case draws from its own PRNG seeded by (seed, case number), so case N
 * is the same request however the concurrent clients were scheduled; only
 * which earlier posts it races with can differ.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { seededRandom } from "../harness/seeded_random.ts";
import {
  type Message,
  validateMessageInput,
  validateTypingInput,
} from "../../protocol/message.ts";
import { MAX_BODY_BYTES } from "../../server/http/request_fields.ts";
import {
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";
import { openSse } from "../harness/sse_client.ts";

type Bytes = Uint8Array<ArrayBuffer>;

/** Requests in flight at once: modest, the test machines have 2 cores. */
const CONCURRENCY = 8;
/** An answer slower than this counts as a hang. */
const REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_SECONDS = 25;
const ADMIN_TOKEN = "fuzz-admin-token-0123456789abcdef";
/** Examples printed for each group of alike findings. */
const EXAMPLES_PER_GROUP = 3;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------
// Settings and randomness

interface Settings {
  seconds: number;
  seed: number;
  /** FUZZ_CASE: replay this one case only. */
  only: number | null;
}

function readSettings(): Settings {
  const rawSeconds = Deno.env.get("FUZZ_SECONDS");
  const seconds = rawSeconds === undefined
    ? DEFAULT_SECONDS
    : Number(rawSeconds);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(
      `FUZZ_SECONDS must be a positive number, got "${rawSeconds}".`,
    );
  }
  const rawSeed = Deno.env.get("FUZZ_SEED");
  const seed = rawSeed === undefined
    ? crypto.getRandomValues(new Uint32Array(1))[0]
    : Number(rawSeed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(
      `FUZZ_SEED must be a whole number from 0 to 4294967295, got "${rawSeed}".`,
    );
  }
  const rawCase = Deno.env.get("FUZZ_CASE");
  const only = rawCase === undefined ? null : Number(rawCase);
  if (only !== null && (!Number.isInteger(only) || only < 0)) {
    throw new Error(`FUZZ_CASE must be a case number, got "${rawCase}".`);
  }
  return { seconds, seed, only };
}

/** Mixes seed and case number so that neighbouring cases get unrelated streams. */
function caseSeed(seed: number, index: number): number {
  // mulberry32 seeds that differ by little start out alike: hash first
  // (murmur3's finaliser).
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }
  /** A whole number in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.#next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#next() * items.length)];
  }
  weighted<T>(table: readonly (readonly [T, number])[]): T {
    const total = table.reduce((sum, [, w]) => sum + w, 0);
    let x = this.#next() * total;
    for (const [value, w] of table) {
      x -= w;
      if (x < 0) return value;
    }
    return table[table.length - 1][0];
  }
  /** A UUID drawn from this PRNG (not crypto), so replays repeat it. */
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(0, 15).toString(16))
      .join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${
      hex.slice(17, 20)
    }-${hex.slice(20)}`;
  }
}

// ---------------------------------------------------------------------------
// Bytes

function bytesOf(...parts: (string | Uint8Array | readonly number[])[]): Bytes {
  const chunks = parts.map((p) =>
    typeof p === "string"
      ? encoder.encode(p)
      : p instanceof Uint8Array
      ? p
      : Uint8Array.from(p)
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Bytes as one byte per char: for HTTP heads, which are not UTF-8 text. */
function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/** A readable, bounded rendering of request bytes for reports. */
function preview(bytes: Uint8Array, max = 300): string {
  let s = "";
  for (const b of bytes.subarray(0, max)) {
    if (b === 0x0d) s += "\\r";
    else if (b === 0x0a) s += "\\n";
    else if (b === 0x5c) s += "\\\\";
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return bytes.length > max ? `${s}… (${bytes.length} bytes)` : s;
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Cases

type Kind =
  | "valid-post"
  | "valid-get"
  | "json-garbage"
  | "invalid-utf8"
  | "form-odd"
  | "content-type"
  | "oversized-body"
  | "odd-method"
  | "odd-path"
  | "messages-query"
  | "stream-query"
  | "big-headers"
  | "truncated-body"
  | "raw-junk"
  | "typing"
  | "origin"
  | "admin"
  | "hostile-text"
  | "form-bad-bytes";

/** Which endpoint a case targets, when it is a well-formed request to one. */
type Route =
  | "POST /messages"
  | "POST /typing"
  | "GET /messages"
  | "GET /messages/:id"
  | "GET /stream"
  | "GET /healthz"
  | "DELETE /messages/:id";

/** What a POST should store, as validateMessageInput normalises it. */
interface ExpectedPost {
  author: string;
  text: string;
  clientId: string | null;
}

interface CaseBase {
  kind: Kind;
  route?: Route;
  /** Acceptable statuses from the app; undefined: any non-5xx. */
  expect?: readonly number[];
  /** The server may close without answering (it answers a big upload early, or the request is broken). */
  mayDrop?: boolean;
  post?: ExpectedPost;
  /** A DELETE with the right token of this plain id: a 204 removes it. */
  deletes?: number;
}

interface FetchCase extends CaseBase {
  via: "fetch";
  method: string;
  /** Path and query, as given to the URL parser. */
  target: string;
  headers: [string, string][];
  body?: Bytes;
  /** Chunk sizes: send the body as a stream, i.e. Transfer-Encoding: chunked. */
  chunks?: number[];
}

interface RawCase extends CaseBase {
  via: "raw";
  bytes: Bytes;
  /**
   * "read": read the answer; "half-close": shut our sending side (the server
   * sees the end of the request), then read; "close": close right after
   * sending, no answer read.
   */
  mode: "read" | "half-close" | "close";
  /** A HEAD request: the answer has headers only. */
  head?: boolean;
}

type Case = FetchCase | RawCase;

interface GenContext {
  /** The Host header the server sees: 127.0.0.1:port. */
  host: string;
  /** A few clientIds that several cases reuse, for the idempotency path. */
  pool: readonly string[];
  /** The instance's ADMIN_TOKEN, so that some DELETEs are allowed. */
  adminToken: string;
}

function describeCase(c: Case): string {
  if (c.via === "raw") {
    return `raw socket (${c.mode}): ${preview(c.bytes, 400)}`;
  }
  const headers = c.headers.map(([k, v]) => `${k}: ${clip(v, 80)}`).join(
    "; ",
  );
  const body = c.body === undefined
    ? ""
    : ` body${c.chunks ? " (chunked)" : ""}: ${preview(c.body)}`;
  return `fetch ${c.method} ${clip(c.target, 200)} [${headers}]${body}`;
}

// ---------------------------------------------------------------------------
// Predicting the app's answer to a POST

const ACCEPTED_TYPES = [
  "application/json",
  "application/x-www-form-urlencoded",
];

/** What the server should answer to a POST body, mirroring request_fields.ts and message.ts. */
function predictPost(
  path: "/messages" | "/typing",
  contentType: string | null,
  body: Bytes,
  pool: readonly string[],
  origin: { header: string | undefined; host: string } = {
    header: undefined,
    host: "",
  },
): Pick<CaseBase, "expect" | "post"> {
  if (origin.header !== undefined) {
    let host: string | null = null;
    try {
      host = new URL(origin.header).host;
    } catch {
      // Not a URL: never the app's own origin.
    }
    if (host !== origin.host) return { expect: [403] };
  }
  // POST /typing has a rate limit of its own; raised for this test, but
  // docs/api.md allows a 429 there at any time.
  const limited = path === "/typing" ? [429] : [];
  const media = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (!ACCEPTED_TYPES.includes(media)) return { expect: [415, ...limited] };
  if (body.byteLength > MAX_BODY_BYTES) return { expect: [413, ...limited] };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return { expect: [400, ...limited] };
  }
  let value: unknown;
  if (media === "application/json") {
    try {
      value = JSON.parse(text);
    } catch {
      return { expect: [400, ...limited] };
    }
  } else {
    const form = strictForm(text);
    if (form === null) return { expect: [400, ...limited] };
    const names = path === "/typing" ? ["author"] : [
      "author",
      "text",
      "clientId",
    ];
    value = Object.fromEntries(
      names.map((n) => [n, form.get(n) ?? undefined]),
    );
  }
  if (path === "/typing") {
    return { expect: validateTypingInput(value).ok ? [202, 429] : [400, 429] };
  }
  const input = validateMessageInput(value);
  if (!input.ok) return { expect: [400] };
  const clientId = input.value.clientId ?? null;
  return {
    // A pooled clientId may already be stored: then 200 with the original.
    expect: clientId !== null && pool.includes(clientId) ? [200, 201] : [201],
    post: { author: input.value.author, text: input.value.text, clientId },
  };
}

/**
 * A form as URLSearchParams parses it, or null when a percent-decoded name
 * or value is not UTF-8: the app refuses those (400) where URLSearchParams
 * would quietly put U+FFFD.
 */
function strictForm(text: string): URLSearchParams | null {
  // Bytes cannot form one UTF-8 sequence across "&" or "=", so each piece
  // can be checked alone.
  for (const piece of text.split(/[&=]/)) {
    const raw = encoder.encode(piece.replaceAll("+", " "));
    const bytes: number[] = [];
    for (let i = 0; i < raw.length; i++) {
      const hex = raw[i] === 0x25 ? latin1(raw.subarray(i + 1, i + 3)) : "";
      if (/^[0-9a-f]{2}$/i.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(raw[i]);
    }
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
    } catch {
      return null;
    }
  }
  return new URLSearchParams(text);
}

// ---------------------------------------------------------------------------
// Building requests

function rawRequest(
  ctx: GenContext,
  method: string,
  target: string,
  headers: [string, string][],
  body?: Uint8Array,
): Bytes {
  const head = [`${method} ${target} HTTP/1.1`, `Host: ${ctx.host}`];
  for (const [k, v] of headers) head.push(`${k}: ${v}`);
  if (body !== undefined) head.push(`Content-Length: ${body.byteLength}`);
  head.push("Connection: close");
  return bytesOf(head.join("\r\n"), "\r\n\r\n", body ?? new Uint8Array());
}

/** A chunked-encoded body (sizes in hex, as on the wire), optionally without its last chunk. */
function chunkedBody(body: Uint8Array, sizes: number[], finish = true): Bytes {
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const size of sizes) {
    const piece = body.subarray(offset, offset + size);
    if (piece.byteLength === 0) break;
    parts.push(bytesOf(`${piece.byteLength.toString(16)}\r\n`, piece, "\r\n"));
    offset += piece.byteLength;
  }
  if (finish) parts.push(encoder.encode("0\r\n\r\n"));
  return bytesOf(...parts);
}

function chunkSizes(g: Rng, total: number): number[] {
  const sizes: number[] = [];
  let left = total;
  while (left > 0) {
    const size = Math.min(left, g.int(1, g.pick([16, 1024, 8192, 65536])));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** A POST of `body` to `path`, by fetch or raw socket, with its predicted answer. */
function postCase(
  g: Rng,
  ctx: GenContext,
  kind: Kind,
  path: "/messages" | "/typing",
  contentType: string | null,
  body: Bytes,
  options: { raw?: boolean; origin?: string; chunked?: boolean } = {},
): Case {
  const prediction = predictPost(path, contentType, body, ctx.pool, {
    header: options.origin,
    host: ctx.host,
  });
  const headers: [string, string][] = [];
  if (contentType !== null) headers.push(["Content-Type", contentType]);
  if (options.origin !== undefined) headers.push(["Origin", options.origin]);
  const route: Route = path === "/messages" ? "POST /messages" : "POST /typing";
  const bigBody = body.byteLength > MAX_BODY_BYTES;
  // The app answers 403/413/415 without reading the body; a client still
  // sending then sees the connection reset instead of the answer.
  const mayDrop = bigBody || (options.chunked === true &&
    prediction.expect !== undefined &&
    prediction.expect.some((s) => s === 403 || s === 413 || s === 415));
  if (options.raw) {
    if (options.chunked) {
      headers.push(["Transfer-Encoding", "chunked"]);
      const req = rawRequest(ctx, "POST", path, headers);
      return {
        via: "raw",
        kind,
        route,
        ...prediction,
        mayDrop,
        mode: "read",
        bytes: bytesOf(
          req,
          chunkedBody(body, chunkSizes(g, body.byteLength)),
        ),
      };
    }
    return {
      via: "raw",
      kind,
      route,
      ...prediction,
      mayDrop,
      mode: "read",
      bytes: rawRequest(ctx, "POST", path, headers, body),
    };
  }
  return {
    via: "fetch",
    kind,
    route,
    ...prediction,
    mayDrop,
    method: "POST",
    target: path,
    headers,
    body,
    chunks: options.chunked ? chunkSizes(g, body.byteLength) : undefined,
  };
}

// ---------------------------------------------------------------------------
// Text pools

// deno-fmt-ignore
const WORDS = [
  "hello", "room", "ok", "ça va", "naïve", "Zürich", "日本語", "한국어", "مرحبا",
  "שלום", "Ελληνικά", "emoji 🎉", "👩‍👩‍👧", "🇫🇷", "<b>bold</b>",
  "<script>alert(1)</script>", "&amp;", "'quote'", '"dq"', "back\\slash",
  "${x}", "%s%n", "https://example.com/?a=1&b=2", "@ada",
  "a\u0301", // decomposed: NFC changes it
  "\u1100\u1161", // Hangul jamo: NFC composes them
  "\u2126", // OHM SIGN: NFC maps it to Omega
  "\u0958", // a composition exclusion
  "\ufb01", // ligature: NFC keeps it
  "x\u200bx", "\u202eevil", "\ufffd", "\u{10ffff}", "\u{e0041}", "\ufdd0",
  "'; drop table messages; --",
];

/** Characters the validator refuses, trims or may disagree with Postgres about. */
// deno-fmt-ignore
const TRICKY = [
  "\u0000", "\u0001", "\u0007", "\t", "\u000b", "\u000c", "\u001b", "\u001c",
  "\u001f", "\u007f", "\u0080", "\u0085", "\u009f", "\u00a0", "\u1680",
  "\u180e", "\u2000", "\u2007", "\u2028", "\u2029", "\u202f", "\u3000",
  "\ufeff", "\ud800", "\udfff", "\r", "\r\n", "\n", " ", "\u0301",
];

// deno-fmt-ignore
const AUTHORS = [
  "ada", "bob", "Zoë", "李雷", "🦊 fox", "o'brien", "<img src=x onerror=alert(1)>",
  "Robert'); DROP TABLE messages;--", "a".repeat(32), "  padded  ",
  "e\u0301mile", "A\u030angstro\u0308m", "x".repeat(31) + "😀", "zw\u200bj",
  "\ufb01sh", "@ada", "\u01c5emal", "\u202eevil",
];

function randomText(
  g: Rng,
  pieces: number,
  tricky: number,
  newlines: boolean,
): string {
  const separators = newlines
    ? [" ", " ", " ", "", "\n", "\r\n", "  "]
    : [" ", " ", "", "  "];
  let out = "";
  for (let i = 0; i < pieces; i++) {
    if (i > 0) out += g.pick(separators);
    out += g.chance(tricky) ? g.pick(TRICKY) : g.pick(WORDS);
  }
  return out;
}

function codePointClip(s: string, max: number): string {
  return Array.from(s).slice(0, max).join("");
}

function validAuthor(g: Rng): string {
  if (g.chance(0.5)) return g.pick(AUTHORS);
  return codePointClip(randomText(g, g.int(1, 3), 0, false), 32);
}

/** Texts at and around the 2000-character limit, in characters of 1 to 4 bytes. */
function longText(g: Rng): string {
  const n = g.pick([1999, 2000, 2001, 2500]);
  return g.pick(["a", "é", "😀", "日", "e\u0301", "a "]).repeat(n);
}

function messageText(g: Rng, tricky = 0.02): string {
  return g.chance(0.1)
    ? longText(g)
    : randomText(g, g.int(1, 12), tricky, true);
}

/** A clientId field: absent (undefined), null, fresh, pooled or odd-cased. */
function clientIdField(g: Rng, ctx: GenContext): string | null | undefined {
  const choice = g.weighted(
    [
      ["none", 5],
      ["null", 1],
      ["fresh", 2],
      ["pool", 2],
    ] as const,
  );
  if (choice === "none") return undefined;
  if (choice === "null") return null;
  const id = choice === "fresh" ? g.uuid() : g.pick(ctx.pool);
  return g.chance(0.2) ? id.toUpperCase() : id;
}

const JSON_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "Application/JSON",
  "application/json;charset=UTF-8",
];
const FORM_TYPES = [
  "application/x-www-form-urlencoded",
  "application/x-www-form-urlencoded; charset=UTF-8",
  "APPLICATION/X-WWW-FORM-URLENCODED",
];

function messageFields(
  g: Rng,
  ctx: GenContext,
): Record<string, string | null> {
  const fields: Record<string, string | null> = {
    author: validAuthor(g),
    text: messageText(g),
  };
  const clientId = clientIdField(g, ctx);
  if (clientId !== undefined) fields.clientId = clientId;
  return fields;
}

function formOf(fields: Record<string, string | null>): string {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) {
    if (v !== null) form.append(k, v);
  }
  return form.toString();
}

// ---------------------------------------------------------------------------
// Generators, one per kind

function genValidPost(g: Rng, ctx: GenContext): Case {
  const fields = messageFields(g, ctx);
  const asForm = g.chance(0.35);
  const body = encoder.encode(asForm ? formOf(fields) : JSON.stringify(fields));
  return postCase(
    g,
    ctx,
    "valid-post",
    "/messages",
    g.pick(asForm ? FORM_TYPES : JSON_TYPES),
    body,
    { raw: g.chance(0.15), chunked: g.chance(0.1) },
  );
}

function genValidGet(g: Rng, ctx: GenContext): Case {
  const method = g.chance(0.1) ? "HEAD" : "GET";
  const which = g.weighted(
    [
      ["health", 1],
      ["page", 3],
      ["one", 2],
      ["stream", 2],
    ] as const,
  );
  let target: string;
  let route: Route;
  let expect: number[];
  const headers: [string, string][] = [];
  switch (which) {
    case "health":
      [target, route, expect] = ["/healthz", "GET /healthz", [200]];
      break;
    case "page": {
      const params = new URLSearchParams();
      if (g.chance(0.6)) params.set("limit", String(g.int(1, 200)));
      if (g.chance(0.5)) {
        params.set(g.pick(["before", "after"]), String(g.int(0, 3000)));
      }
      const query = params.toString();
      [target, route, expect] = [
        `/messages${query ? `?${query}` : ""}`,
        "GET /messages",
        [200],
      ];
      break;
    }
    case "one":
      [target, route, expect] = [
        `/messages/${g.int(1, 3000)}`,
        "GET /messages/:id",
        [200, 404],
      ];
      break;
    case "stream": {
      route = "GET /stream";
      expect = [200];
      const start = g.int(0, 3);
      target = start === 0
        ? "/stream"
        : start === 1
        ? `/stream?history=${g.int(0, 200)}`
        : `/stream?since=${g.int(0, 3000)}`;
      headers.push(["Accept", "text/event-stream"]);
      if (start === 3) headers.push(["Last-Event-ID", String(g.int(0, 3000))]);
      break;
    }
  }
  if (g.chance(0.15)) {
    return {
      via: "raw",
      kind: "valid-get",
      route,
      expect,
      mode: "read",
      head: method === "HEAD",
      bytes: rawRequest(ctx, method, target, headers),
    };
  }
  return {
    via: "fetch",
    kind: "valid-get",
    route,
    expect,
    method,
    target,
    headers,
  };
}

// deno-fmt-ignore
const SCALARS = [
  "null", "true", "false", "0", "-0", "1e400", "-1e400",
  "123456789012345678901234567890", "0.0000000000000000000000001",
  "1E+999999999", "9".repeat(5000), '""', '" "', '"\\u0000"', '"\\ud800"',
  '"\\udc00\\ud800"', '"a\\u0000b"', '"\\u2028"', '"\\t"', '"\\n"', '"\\u0061"',
  '"e\\u0301"', "[]", '["a"]', "{}", '{"toString":"x"}', `"${"x".repeat(33)}"`,
  `"${"y".repeat(2001)}"`, '"ok"',
];

// deno-fmt-ignore
const JSON_LITERALS = [
  "", " ", "\n", "\ufeff", "NaN", "Infinity", "undefined", "null", "true", "0",
  '"string"', "[]", "{}", '{"author":"a","text":"b"', "{author:'a',text:'b'}",
  '{"author":"a","text":"b",}', '{"author":"a" "text":"b"}',
  '/*c*/{"author":"a","text":"b"}', '{"author":"a","text":"b"}garbage',
  '{"author":"a","text":"b"}{"author":"a","text":"b"}',
  '[{"author":"a","text":"b"}]', '{"author":"a","text":"b"}\u0000',
  "\ufeff" + '{"author":"bom","text":"with a byte order mark"}',
  '  \n\t{"author":"ws","text":"padded with whitespace"}\r\n ',
  '{"__proto__":{"author":"a","text":"b"}}',
  '{"constructor":{"prototype":{"author":"a"}},"text":"b"}',
  '{"author":"first","author":"second","text":"duplicate keys"}',
  '{"Author":"a","TEXT":"b"}', '{"author":"a","text":"b","clientId":""}',
  '{"author":"a","text":"b","clientId":"not-a-uuid"}',
  '{"author":"a","text":"b","clientId":123}',
  '{"author":"a","text":"b","clientId":"{12345678-1234-4234-a234-123456789abc}"}',
  '{"author":"a","text":"b","clientId":"123456781234423' +
  '4a234123456789abc"}',
  '{"author":"a","text":"b","clientId":"12345678-1234-4234-a234-123456789abc\\n"}',
  '{"author":"\\u0061\\u0301","text":"\\u00e9\\u0301"}',
];

/** Bodies that are JSON-ish but broken, nested, huge-numbered or the wrong shape. */
function jsonGarbage(g: Rng, ctx: GenContext): string {
  const maker = g.pick(
    [
      "truncated",
      "nested-array",
      "nested-object",
      "nested-field",
      "numbers",
      "literal",
      "shape",
      "shape",
    ] as const,
  );
  switch (maker) {
    case "truncated": {
      const whole = JSON.stringify(messageFields(g, ctx));
      return whole.slice(0, g.int(0, whole.length - 1));
    }
    case "nested-array": {
      const n = g.pick([10, 100, 1000, 5000, 8000, 8192, 9000]);
      const close = g.chance(0.8) ? n : g.int(0, n);
      return "[".repeat(n) + "]".repeat(close);
    }
    case "nested-object": {
      const n = g.pick([10, 100, 1000, 1400, 2000]);
      return '{"author":'.repeat(n) + '"x"' + "}".repeat(n);
    }
    case "nested-field": {
      const n = g.pick([10, 1000, 5000]);
      return `{"author":"nest","text":${"[".repeat(n)}"deep"${"]".repeat(n)}}`;
    }
    case "numbers":
      return `{"author":${g.pick(SCALARS)},"text":${g.pick(SCALARS)}${
        g.chance(0.3) ? `,"clientId":${g.pick(SCALARS)}` : ""
      }}`;
    case "literal":
      return g.pick(JSON_LITERALS);
    case "shape": {
      // Keys and values from pools: mostly invalid, sometimes a valid post.
      const parts: string[] = [];
      for (const key of ["author", "text", "clientId", "extra"]) {
        if (g.chance(key === "extra" || key === "clientId" ? 0.3 : 0.85)) {
          const value = g.chance(0.5)
            ? JSON.stringify(
              key === "author"
                ? validAuthor(g)
                : key === "clientId"
                ? g.uuid()
                : messageText(g, 0.1),
            )
            : g.pick(SCALARS);
          parts.push(`${JSON.stringify(key)}:${value}`);
        }
      }
      return `{${parts.join(",")}}`;
    }
  }
}

function genJsonGarbage(g: Rng, ctx: GenContext): Case {
  return postCase(
    g,
    ctx,
    "json-garbage",
    "/messages",
    g.pick(JSON_TYPES),
    encoder.encode(jsonGarbage(g, ctx)),
    { raw: g.chance(0.1) },
  );
}

const BAD_UTF8: readonly (readonly number[])[] = [
  [0xff],
  [0xfe],
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80], // an encoded surrogate
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
  [0xf5, 0x80, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80], // a lone continuation byte
  [0xbf],
  [0xe2, 0x82], // truncated sequences
  [0xf0, 0x9f, 0x98],
  [0xc3],
  [0xe9], // Latin-1 é
];

function genInvalidUtf8(g: Rng, ctx: GenContext): Case {
  const fields = messageFields(g, ctx);
  const asForm = g.chance(0.35);
  const valid = encoder.encode(
    asForm ? formOf(fields) : JSON.stringify(fields),
  );
  // Inside the text, anywhere, or at the very end (a truncated sequence).
  const bad = g.pick(BAD_UTF8);
  const textAt = indexOfBytes(
    valid,
    encoder.encode(asForm ? "text=" : '"text":"'),
  );
  const at = g.weighted([
    [textAt === -1 ? valid.length : textAt + (asForm ? 5 : 8), 3],
    [g.int(0, valid.length), 2],
    [valid.length, 1],
  ]);
  const body = bytesOf(valid.subarray(0, at), bad, valid.subarray(at));
  return postCase(
    g,
    ctx,
    "invalid-utf8",
    g.chance(0.85) ? "/messages" : "/typing",
    g.pick(asForm ? FORM_TYPES : JSON_TYPES),
    body,
    { raw: g.chance(0.2) },
  );
}

// deno-fmt-ignore
const FORM_VALUES = [
  "%FF", "%E9t%E9", "%C3%A9", "caf%C3%A9", "%00", "a%00b", "a%0Ab", "a%0D%0Ab",
  "%", "%Z1", "%%", "100%", "%2525", "a%2Bb", "a+b+c", "+", "", "%20%20",
  "%F0%9F%98%80", "%ED%A0%80", "%C0%80", "%E2%80%A8", "%EF%BB%BF",
  "a%26text%3Dinjected",
  "é", // raw UTF-8, not percent-encoded
  "😀", "x".repeat(2001), "%61".repeat(33),
];
// deno-fmt-ignore
const FORM_KEYS = [
  "author", "text", "clientId", "AUTHOR", "%61uthor", "te%78t", "author%00", "",
  "author[]", "text.0", "author ",
];

function genFormOdd(g: Rng, ctx: GenContext): Case {
  const pairs: string[] = [];
  if (g.chance(0.7)) {
    // A valid base so that the odd part decides the outcome.
    pairs.push(formOf(messageFields(g, ctx)));
  }
  const extra = g.chance(0.1) ? g.int(100, 2500) : g.int(1, 5);
  for (let i = 0; i < extra; i++) {
    const key = g.pick(FORM_KEYS);
    const value = g.chance(0.5)
      ? g.pick(FORM_VALUES)
      // Lone surrogates would make encodeURIComponent throw.
      : encodeURIComponent(
        randomText(g, g.int(1, 3), 0.2, true).toWellFormed(),
      );
    pairs.push(g.chance(0.1) ? key : `${key}=${value}`);
  }
  if (g.chance(0.3)) pairs.reverse();
  const separator = g.pick(["&", "&", "&", ";", "&&"]);
  let body: Bytes = encoder.encode(pairs.join(separator));
  if (g.chance(0.1)) body = bytesOf(body, "&text=", [0xff, 0xfe]);
  return postCase(
    g,
    ctx,
    "form-odd",
    g.chance(0.85) ? "/messages" : "/typing",
    g.pick([
      ...FORM_TYPES,
      "application/x-www-form-urlencoded; charset=ISO-8859-1",
      "application/x-www-form-urlencoded;;;",
    ]),
    body,
    { raw: g.chance(0.15) },
  );
}

// deno-fmt-ignore
const ODD_TYPES: readonly (string | null)[] = [
  null, "", "text/plain", "text/plain;charset=UTF-8",
  "application/json; charset=utf-16", "application/json ; charset=utf-8",
  "APPLICATION/JSON", "application/json;", ";application/json",
  "application/json, text/plain", "application/jsonx", "application/ld+json",
  "application/*", "*/*", "multipart/form-data; boundary=xyz",
  "application/octet-stream", "json", 'application/json; charset="utf-8"',
  "application/json; boundary=;;;", "x".repeat(5000),
  "application/json" + "; a=b".repeat(500),
  "application/x-www-form-urlencoded, application/json",
];

function genContentType(g: Rng, ctx: GenContext): Case {
  const fields = messageFields(g, ctx);
  const contentType = g.pick(ODD_TYPES);
  let body: Bytes;
  if (contentType?.includes("utf-16")) {
    // UTF-16LE: ASCII with NUL bytes between, valid UTF-8 but not JSON.
    const s = JSON.stringify(fields);
    body = new Uint8Array(s.length * 2);
    for (let i = 0; i < s.length; i++) {
      body[2 * i] = s.charCodeAt(i) & 0xff;
      body[2 * i + 1] = s.charCodeAt(i) >> 8;
    }
  } else {
    body = encoder.encode(
      g.chance(0.5) ? JSON.stringify(fields) : formOf(fields),
    );
  }
  const raw = g.chance(0.2);
  if (raw && g.chance(0.3)) {
    // Two Content-Type headers: the server sees them joined by ", ".
    const second = g.pick(JSON_TYPES);
    const joined = contentType === null ? second : `${contentType}, ${second}`;
    const prediction = predictPost("/messages", joined, body, ctx.pool);
    const headers: [string, string][] = [["Content-Type", second]];
    if (contentType !== null) headers.unshift(["Content-Type", contentType]);
    return {
      via: "raw",
      kind: "content-type",
      route: "POST /messages",
      ...prediction,
      mode: "read",
      bytes: rawRequest(ctx, "POST", "/messages", headers, body),
    };
  }
  return postCase(g, ctx, "content-type", "/messages", contentType, body, {
    raw,
  });
}

/** A valid JSON post padded with spaces (outside the strings) to exactly `size` bytes. */
function paddedPost(g: Rng, ctx: GenContext, size: number): Bytes {
  const json = JSON.stringify(messageFields(g, ctx));
  const length = encoder.encode(json).byteLength;
  return encoder.encode(json + " ".repeat(Math.max(0, size - length)));
}

function genOversized(g: Rng, ctx: GenContext): Case {
  const variant = g.pick(
    [
      "declared",
      "chunked",
      "boundary",
      "raw-declared-huge",
      "raw-declared",
      "raw-chunked",
    ] as const,
  );
  const size = g.pick([16385, 16386, 20_000, 65_536, 300_000, 1_048_576]);
  const contentType = g.chance(0.9) ? g.pick(JSON_TYPES) : "text/plain";
  switch (variant) {
    case "declared":
      return postCase(
        g,
        ctx,
        "oversized-body",
        g.chance(0.8) ? "/messages" : "/typing",
        contentType,
        paddedPost(g, ctx, size),
      );
    case "chunked":
      return postCase(
        g,
        ctx,
        "oversized-body",
        "/messages",
        contentType,
        paddedPost(g, ctx, size),
        { chunked: true },
      );
    case "boundary":
      // Exactly at the limit (accepted) and one byte over (refused), plain
      // and chunked.
      return postCase(
        g,
        ctx,
        "oversized-body",
        "/messages",
        g.pick(JSON_TYPES),
        paddedPost(g, ctx, MAX_BODY_BYTES + g.int(-1, 1)),
        { chunked: g.chance(0.5), raw: g.chance(0.3) },
      );
    case "raw-declared-huge": {
      // A Content-Length the app must refuse before reading anything.
      const declared = g.pick([
        "16385",
        "1000000000",
        "9007199254740993",
        "99999999999999999",
      ]);
      const headers: [string, string][] = [
        ["Content-Type", "application/json"],
        ["Content-Length", declared],
      ];
      if (g.chance(0.3)) headers.push(["Expect", "100-continue"]);
      return {
        via: "raw",
        kind: "oversized-body",
        route: "POST /messages",
        expect: [413],
        // The rest of the declared body never comes: end our side so that
        // the HTTP layer need not wait for it.
        mode: "half-close",
        mayDrop: true,
        bytes: bytesOf(
          rawRequest(ctx, "POST", "/messages", headers),
          '{"author":"a"',
        ),
      };
    }
    case "raw-declared":
      return postCase(
        g,
        ctx,
        "oversized-body",
        "/messages",
        contentType,
        paddedPost(g, ctx, size),
        { raw: true },
      );
    case "raw-chunked":
      return postCase(
        g,
        ctx,
        "oversized-body",
        "/messages",
        contentType,
        paddedPost(g, ctx, size),
        { raw: true, chunked: true },
      );
  }
}

// deno-fmt-ignore
const KNOWN_PATHS = [
  "/", "/messages", "/messages/1", "/stream", "/typing", "/healthz",
  "/assets/app.js", "/nope",
];
/** Methods fetch may send; fetch upper-cases only the six standard ones. */
// deno-fmt-ignore
const FETCH_METHODS = [
  "PUT", "DELETE", "PATCH", "OPTIONS", "patch", "delete", "Put", "FOO",
  "M-SEARCH", "PROPFIND", "MKCOL", "QUERY", "BREW", "X".repeat(200),
  "A!#$%&'*+-.^_`|~",
];
/** Methods fetch refuses to send, or that are not HTTP tokens at all. */
// deno-fmt-ignore
const RAW_METHODS = [
  "TRACE", "TRACK", "CONNECT", "get", "GE T", "GET\u0000", "PO\tST",
  "\u00c4PFEL", "GET:", "", "X".repeat(20_000),
];
const STANDARD = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

function genOddMethod(g: Rng, ctx: GenContext): Case {
  const path = g.pick(KNOWN_PATHS);
  const withBody = g.chance(0.3);
  const body = encoder.encode('{"author":"m","text":"odd method"}');
  if (g.chance(0.7)) {
    const method = g.pick(FETCH_METHODS);
    const sent = STANDARD.includes(method.toUpperCase())
      ? method.toUpperCase()
      : method;
    // Not GET, HEAD or POST: a known path says 405, an unknown one 404;
    // DELETE and PATCH /messages/<id> (moderation, authors) want a token
    // first.
    const deleting = (sent === "DELETE" || sent === "PATCH") &&
      path.startsWith("/messages/");
    return {
      via: "fetch",
      kind: "odd-method",
      expect: deleting ? [401] : [404, 405],
      method: sent,
      target: path,
      headers: withBody ? [["Content-Type", "application/json"]] : [],
      body: withBody ? body : undefined,
    };
  }
  const method = g.pick(RAW_METHODS);
  const target = method === "CONNECT" && g.chance(0.5) ? ctx.host : path;
  return {
    via: "raw",
    kind: "odd-method",
    mode: "half-close",
    mayDrop: true,
    bytes: bytesOf(
      latin1ToBytes(`${method} ${target} HTTP/1.1\r\nHost: ${ctx.host}\r\n`),
      withBody
        ? `Content-Type: application/json\r\nContent-Length: ${body.byteLength}\r\n`
        : "",
      "Connection: close\r\n\r\n",
      withBody ? body : "",
    ),
  };
}

/** A string of chars below 256 as the same bytes (for raw heads). */
function latin1ToBytes(s: string): Bytes {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0) & 0xff);
}

function longPath(piece: string, length: number): string {
  return piece.repeat(Math.ceil(length / piece.length));
}

// deno-fmt-ignore
const ODD_PATHS = [
  "//messages", "/messages/", "/messages//", "/MESSAGES", "/messages.json", "/stream/", "/healthz/", "/typing/x",
  "/assets/", "/assets/%2e%2e%2fserver%2fapp.ts", "/assets/..%2F..%2Fdeno.json",
  "/%00", "/%", "/%zz", "/%C0%AF", "/%FF%FE", "/é", "/日本語", "/😀", "/a;b", "/?",
  "/#fragment", "/./messages", "/messages/%2e%2e/healthz", "/messages/-1",
  "/messages/0", "/messages/1.5", "/messages/1e3", "/messages/0x10",
  "/messages/99999999999999999", "/messages/9007199254740993", "/messages/%201",
  "/messages/%00", "/messages/%FF", "/messages/%E2%82", "/messages/١٢",
  "/messages/null", "/messages/" + "1".repeat(17), "/messages/0000000000000001",
  "/messages/1/2", "/\\messages", "/messages\\1",
];
// deno-fmt-ignore
const RAW_PATHS = [
  "/../../etc/passwd", "/messages/../healthz", "/%2e%2e/%2e%2e/",
  "/assets/../../deno.json", "*", "messages", "/messages/\u00e9", "/a b",
  "/\u0000", "/messages?limit=\u00ff",
];

function genOddPath(g: Rng, ctx: GenContext): Case {
  const method = g.chance(0.2) ? "HEAD" : "GET";
  const roll = g.int(0, 9);
  if (roll < 2) {
    const target = roll === 0
      ? g.pick(RAW_PATHS)
      : `http://${g.pick([ctx.host, "evil.example"])}${g.pick(KNOWN_PATHS)}`;
    return {
      via: "raw",
      kind: "odd-path",
      mode: "half-close",
      mayDrop: true,
      head: method === "HEAD",
      bytes: bytesOf(
        latin1ToBytes(`${method} ${target} HTTP/1.1\r\nHost: ${ctx.host}\r\n`),
        "Connection: close\r\n\r\n",
      ),
    };
  }
  const target = roll === 2
    ? "/" +
      longPath(
        g.pick(["a", "messages/", "%2F", "é"]),
        g.pick([500, 4000, 20_000, 70_000]),
      )
    : g.pick(ODD_PATHS);
  const encoded = new URL(target, "http://x").pathname;
  if (encoded.length > 60_000) {
    // fetch refuses URLs of 64 KiB and more: send those by hand.
    return {
      via: "raw",
      kind: "odd-path",
      mode: "read",
      mayDrop: true,
      head: method === "HEAD",
      bytes: rawRequest(ctx, method, encoded, []),
    };
  }
  return {
    via: "fetch",
    kind: "odd-path",
    method,
    target,
    headers: [],
    // The HTTP layer may refuse very long lines by closing.
    mayDrop: target.length > 8000,
  };
}

// deno-fmt-ignore
const ID_JUNK = [
  "", "0", "1", "2", "50", "-1", "+1", " 1", "1 ", "%201", "1%20", "1.0", "1.5",
  "1e2", "0x10", "0b1", "NaN", "Infinity", "-0", "9007199254740991",
  "9007199254740992", "9223372036854775807", "9223372036854775808",
  "99999999999999999999", "1".repeat(16), "1".repeat(17), "0".repeat(30) + "1",
  "1".repeat(2000), "%00", "%FF", "%E2%80%8B1", "١", "１", "1,2", "[1]", "null",
  "undefined", "true", "'", "'; drop table messages; --", "%27%3B--", "é", "😀",
  "%", "%%", "%zz", "\u0000" + "1",
];
// deno-fmt-ignore
const LIMIT_JUNK = [
  "0", "1", "2", "50", "199", "200", "201", "1000000", "-1", "007", "1.0",
  "1e2", "", " 5", "abc", "2".repeat(7), "%35", "1".repeat(1000),
];

function junkQuery(g: Rng, names: readonly [string, readonly string[]][]) {
  const parts: string[] = [];
  for (const [name, pool] of names) {
    if (!g.chance(0.6)) continue;
    const times = g.chance(0.1) ? 2 : 1;
    for (let i = 0; i < times; i++) {
      parts.push(g.chance(0.05) ? name : `${name}=${g.pick(pool)}`);
    }
  }
  if (g.chance(0.1)) parts.push(`${g.pick(["x", "Before", "LIMIT"])}=1`);
  if (g.chance(0.3)) parts.reverse();
  return parts.join(g.pick(["&", "&", "&", ";", "&&"]));
}

function genMessagesQuery(g: Rng, ctx: GenContext): Case {
  const query = junkQuery(g, [
    ["before", ID_JUNK],
    ["after", ID_JUNK],
    ["limit", LIMIT_JUNK],
  ]);
  const target = `/messages?${query}`;
  if (g.chance(0.1)) {
    return {
      via: "raw",
      kind: "messages-query",
      route: "GET /messages",
      mode: "half-close",
      mayDrop: true,
      bytes: bytesOf(
        // Unencoded bytes as they are: a raw client need not encode.
        encoder.encode(`GET ${target} HTTP/1.1\r\nHost: ${ctx.host}\r\n`),
        "Connection: close\r\n\r\n",
      ),
    };
  }
  return {
    via: "fetch",
    kind: "messages-query",
    route: "GET /messages",
    method: g.chance(0.1) ? "HEAD" : "GET",
    target,
    headers: [],
  };
}

// deno-fmt-ignore
const LAST_EVENT_IDS = [
  "-1", "0", "1", "42", "99999999999999999999999", "9007199254740993", "abc",
  " 5 ", "", "5, 6", "0x10", "1e3", "null", "%31", "\u00e9", "1\u00a0",
];

function genStreamQuery(g: Rng, ctx: GenContext): Case {
  const query = junkQuery(g, [
    ["since", ID_JUNK],
    ["history", LIMIT_JUNK],
  ]);
  const headers: [string, string][] = [["Accept", "text/event-stream"]];
  if (g.chance(0.4)) {
    headers.push([
      "Last-Event-ID",
      g.chance(0.1)
        ? g.pick(["1", "x", "9"]).repeat(g.pick([100, 1000, 10_000, 50_000]))
        : g.pick(LAST_EVENT_IDS),
    ]);
  }
  const target = `/stream${query ? `?${query}` : ""}`;
  if (g.chance(0.15)) {
    // Two Last-Event-ID headers, or bytes fetch cannot send.
    const extra: [string, string][] = [
      ["Last-Event-ID", g.pick(LAST_EVENT_IDS)],
      ["Last-Event-ID", g.pick(LAST_EVENT_IDS)],
    ];
    return {
      via: "raw",
      kind: "stream-query",
      route: "GET /stream",
      mode: "read",
      mayDrop: true,
      bytes: bytesOf(
        encoder.encode(`GET ${target} HTTP/1.1\r\nHost: ${ctx.host}\r\n`),
        extra.map(([k, v]) => `${k}: ${v}\r\n`).join(""),
        "Connection: close\r\n\r\n",
      ),
    };
  }
  return {
    via: "fetch",
    kind: "stream-query",
    route: "GET /stream",
    method: g.chance(0.1) ? "HEAD" : "GET",
    target,
    headers,
  };
}

function genBigHeaders(g: Rng, ctx: GenContext): Case {
  const variant = g.pick(["one", "many", "content-type", "raw"] as const);
  const size = g.pick([1024, 8192, 16_384, 65_536, 262_144, 1_048_576]);
  // Targets that store nothing, so a dropped connection cannot hide a 201.
  const [method, target, route] = g.pick(
    [
      ["GET", "/healthz", "GET /healthz"],
      ["GET", "/messages?limit=1", "GET /messages"],
      ["POST", "/typing", "POST /typing"],
      ["POST", "/messages", "POST /messages"],
    ] as const,
  );
  const body = method === "POST"
    ? encoder.encode(target === "/typing" ? '{"author":"ada"}' : "{}")
    : undefined;
  const headers: [string, string][] = method === "POST"
    ? [["Content-Type", "application/json"]]
    : [];
  switch (variant) {
    case "one":
      headers.push([
        g.pick(["X-Fuzz", "Cookie", "User-Agent", "Referer"]),
        "v".repeat(size),
      ]);
      break;
    case "many":
      for (let i = 0, n = g.pick([100, 500, 2000]); i < n; i++) {
        headers.push([`X-Fuzz-${i}`, "v".repeat(g.int(1, 64))]);
      }
      break;
    case "content-type":
      headers.length = 0;
      headers.push(["Content-Type", "application/json; x=" + "v".repeat(size)]);
      break;
    case "raw": {
      const lines = g.chance(0.5)
        ? `X-Fuzz: ${"v".repeat(size)}\r\n`
        : Array.from(
          { length: g.pick([100, 1000, 10_000]) },
          (_, i) => `X-${i}: v\r\n`,
        ).join("");
      return {
        via: "raw",
        kind: "big-headers",
        route,
        mode: "read",
        mayDrop: true,
        head: false,
        bytes: bytesOf(
          `${method} ${target} HTTP/1.1\r\nHost: ${ctx.host}\r\n`,
          lines,
          headers.map(([k, v]) => `${k}: ${v}\r\n`).join(""),
          body ? `Content-Length: ${body.byteLength}\r\n` : "",
          "Connection: close\r\n\r\n",
          body ?? "",
        ),
      };
    }
  }
  return {
    via: "fetch",
    kind: "big-headers",
    route,
    method,
    target,
    headers,
    body,
    mayDrop: true,
  };
}

function genTruncated(g: Rng, ctx: GenContext): Case {
  const path = g.chance(0.8) ? "/messages" : "/typing";
  const fields = messageFields(g, ctx);
  const asForm = g.chance(0.3);
  const whole = encoder.encode(
    asForm ? formOf(fields) : JSON.stringify(fields),
  );
  const contentType = g.pick(asForm ? FORM_TYPES : JSON_TYPES);
  // Never the whole body: a complete valid post on a socket we close
  // unread could be stored without our seeing its 201.
  const sent = g.int(0, whole.byteLength - 1);
  const mode = g.chance(0.5) ? "close" : "half-close";
  const route: Route = path === "/messages" ? "POST /messages" : "POST /typing";
  if (g.chance(0.3)) {
    const sizes = chunkSizes(g, whole.byteLength);
    const chunked = chunkedBody(whole, sizes, false);
    return {
      via: "raw",
      kind: "truncated-body",
      route,
      mode,
      mayDrop: true,
      bytes: bytesOf(
        rawRequest(ctx, "POST", path, [
          ["Content-Type", contentType],
          ["Transfer-Encoding", "chunked"],
        ]),
        chunked.subarray(0, g.int(0, chunked.byteLength - 1)),
      ),
    };
  }
  const declared = g.chance(0.5)
    ? whole.byteLength
    : whole.byteLength + g.int(1, 1000);
  return {
    via: "raw",
    kind: "truncated-body",
    route,
    mode,
    mayDrop: true,
    bytes: bytesOf(
      rawRequest(ctx, "POST", path, [
        ["Content-Type", contentType],
        ["Content-Length", String(declared)],
      ]),
      whole.subarray(0, sent),
    ),
  };
}

/** Broken HTTP: request lines, framing, header syntax. Bodies are never valid posts. */
function genRawJunk(g: Rng, ctx: GenContext): Case {
  const h = `Host: ${ctx.host}\r\n`;
  const junk = [
    "GARBAGE\r\n\r\n",
    "\r\n\r\n",
    "GET / HTTP/2.0\r\n" + h + "\r\n",
    "GET /healthz HTTP/1.0\r\n\r\n",
    "GET /healthz\r\n\r\n",
    "GET /healthz HTTP/1.1\r\n\r\n",
    "GET /healthz HTTP/1.1\r\n" + h + h + "\r\n",
    "GET /healthz HTTP/1.1\r\n" + h,
    "GET /healthz HTTP/1.1\r\n" + h + "X-No-Colon\r\n\r\n",
    "GET /healthz HTTP/1.1\r\n" + h + "X-Space : v\r\n\r\n",
    "GET /healthz HTTP/1.1\r\n" + h + "X-Fold: a\r\n b\r\n\r\n",
    "GET /healthz HTTP/1.1\r\n" + h + "X-Nul: a\u0000b\r\n\r\n",
    "GET /healthz HTTP/1.1\n" + "Host: x\n\n",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{}",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\n{}\r\n0\r\nTrailer: x\r\n\r\n",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n{}",
    "POST /typing HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "GET /healthz HTTP/1.1\r\n" + h + "\r\nGET /nope HTTP/1.1\r\n" + h +
    "\r\n",
  ];
  let bytes: Bytes;
  const roll = g.int(0, 9);
  if (roll < 6) {
    bytes = latin1ToBytes(g.pick(junk));
  } else if (roll < 8) {
    // A well-formed request with a few bytes flipped, dropped or inserted.
    // Its body ("{}") can never be a valid post, however the head breaks.
    bytes = latin1ToBytes(
      `${g.pick(["GET", "POST"])} ${g.pick(KNOWN_PATHS)} HTTP/1.1\r\n${h}` +
        "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    for (let i = 0, n = g.int(1, 4); i < n; i++) {
      const at = g.int(0, bytes.length - 1);
      const action = g.int(0, 2);
      const insert = g.pick([0x00, 0x0a, 0x0d, 0x3a, 0x20, 0xff, 0x7f]);
      bytes = action === 0
        ? bytesOf(bytes.subarray(0, at), bytes.subarray(at + 1))
        : action === 1
        ? bytesOf(bytes.subarray(0, at), [insert], bytes.subarray(at))
        : bytesOf(bytes.subarray(0, at), [insert], bytes.subarray(at + 1));
    }
  } else {
    bytes = Uint8Array.from(
      { length: g.int(1, 2000) },
      () => g.int(0, 255),
    );
  }
  return {
    via: "raw",
    kind: "raw-junk",
    mode: "half-close",
    mayDrop: true,
    bytes,
  };
}

function genTyping(g: Rng, ctx: GenContext): Case {
  const asForm = g.chance(0.3);
  let body: Bytes;
  if (g.chance(0.5)) {
    const author = g.chance(0.8)
      ? validAuthor(g)
      : randomText(g, g.int(1, 4), 0.3, true);
    body = encoder.encode(
      asForm
        ? new URLSearchParams({ author }).toString()
        : JSON.stringify({ author }),
    );
  } else {
    body = encoder.encode(jsonGarbage(g, ctx));
  }
  return postCase(
    g,
    ctx,
    "typing",
    "/typing",
    g.chance(0.9)
      ? g.pick(asForm ? FORM_TYPES : JSON_TYPES)
      : g.pick(ODD_TYPES),
    body,
    { raw: g.chance(0.1) },
  );
}

function genOrigin(g: Rng, ctx: GenContext): Case {
  const origin = g.pick([
    "http://evil.example",
    "null",
    `http://${ctx.host}`,
    `https://${ctx.host}`,
    `HTTP://${ctx.host}`,
    `http://${ctx.host}/path`,
    "http://127.0.0.1:1",
    "http://localhost",
    "garbage",
    "",
    "http://[::1]",
    `http://${ctx.host}.evil.example`,
  ]);
  const fields = messageFields(g, ctx);
  return postCase(
    g,
    ctx,
    "origin",
    g.chance(0.8) ? "/messages" : "/typing",
    "application/json",
    encoder.encode(JSON.stringify(fields)),
    { origin },
  );
}

/** Authorization headers that are never the admin token. */
// deno-fmt-ignore
const BAD_AUTHORIZATIONS = [
  "", "Bearer", "Bearer ", "Bearer x", "bearer 0123456789abcdef0123",
  "Bearer  spaced  ", "Bearer a b", "Basic YWRtaW46YWRtaW4=",
  "Token 0123456789abcdef",
  "Bearer \u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", "Bearer\tx",
  "Bearer " + "a".repeat(64), "Bearer " + "x".repeat(60_000),
];
/** Ids the server cannot parse: with the right token, a 400 and nothing deleted. */
// deno-fmt-ignore
const UNPARSABLE_IDS = [
  "abc", "-1", "1.5", "1e3", "0x10", "%00", "%FF", "%20", "١", "1".repeat(17),
  "99999999999999999999",
];

/** DELETE /messages/:id: mostly refused (401/403), sometimes allowed on a plain id. */
function genAdmin(g: Rng, ctx: GenContext): Case {
  const variant = g.weighted(
    [
      ["no-token", 2],
      ["bad-token", 4],
      ["good-token-bad-id", 1],
      ["good-token", 1],
    ] as const,
  );
  const headers: [string, string][] = [];
  let id = String(g.int(1, 3000));
  let expect: number[];
  let deletes: number | undefined;
  switch (variant) {
    case "no-token":
      expect = [401];
      id = g.chance(0.5) ? id : g.pick(UNPARSABLE_IDS);
      break;
    case "bad-token": {
      const auth = g.chance(0.2)
        ? `Bearer ${ctx.adminToken}x`
        : g.pick(BAD_AUTHORIZATIONS);
      headers.push(["Authorization", auth]);
      // "Bearer <one word>" with the wrong word is a 403; a header of any
      // other shape a 401. (fetch trims the value's ends, as the server
      // would see it.)
      expect = /^Bearer\s+\S+\s*$/i.test(auth.trim()) ? [403] : [401];
      id = g.chance(0.5) ? id : g.pick(UNPARSABLE_IDS);
      break;
    }
    case "good-token-bad-id":
      headers.push(["Authorization", `Bearer ${ctx.adminToken}`]);
      id = g.pick(UNPARSABLE_IDS);
      expect = [400];
      break;
    case "good-token":
      headers.push([
        "Authorization",
        `${g.pick(["Bearer", "bearer", "BEARER"])} ${ctx.adminToken}`,
      ]);
      expect = [204, 404];
      deletes = Number(id);
      break;
  }
  return {
    via: "fetch",
    kind: "admin",
    route: "DELETE /messages/:id",
    expect,
    deletes,
    // The HTTP layer may refuse the 60 kB header by closing.
    mayDrop: headers.some(([, v]) => v.length > 16_000),
    method: "DELETE",
    target: `/messages/${id}`,
    headers,
  };
}

/** Bidirectional controls: refused in names, kept in text. */
// deno-fmt-ignore
const BIDI = [
  "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
  "\u2068", "\u2069", "\u200e", "\u200f", "\u061c",
];
/** Default-ignorable characters that no context makes visible: refused in names. */
// deno-fmt-ignore
const INVISIBLE = [
  "\u200b", "\u2060", "\u2061", "\u206f", "\u180e", "\u034f", "\u3164",
  "\u115f", "\u1160", "\uffa0", "\u00ad", "\ufeff", "\ufe00", "\u17b4",
  "\u{e0001}", "\u{e0041}", "\u{e0fff}", "\u2800",
];
/** Look-alikes of Latin letters (Cyrillic, Greek) and compatibility forms NFKC folds. */
// deno-fmt-ignore
const CONFUSABLE = [
  "\u0430", "\u0435", "\u043e", "\u0440", "\u0441", "\u03bf", "\u0391",
  "\uff41\uff44\uff41", "\u{1d41a}", "\ufb01", "\u24b6", "\u337f", "\u00a0",
];
/** Joiners and selectors in the places where they draw something: allowed. */
// deno-fmt-ignore
const JOINED = [
  "\u{1f3f3}\ufe0f\u200d\u{1f308}", "\u2764\ufe0f", "#\ufe0f\u20e3",
  "\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}",
  "\u0dc1\u0dca\u200d\u0dbb\u0dd3", "\u845b\u{e0100}",
];
const MARKS = "\u0301\u0323\u0302\u0308\u0307\u0330\u0331\u0332";

/** A piece of a hostile name or text: one of the classes above, or a stack of marks. */
function hostilePiece(g: Rng): string {
  const pool = g.pick([BIDI, INVISIBLE, CONFUSABLE, JOINED, null]);
  if (pool !== null) return g.pick(pool);
  const n = g.pick([1, 2, 3, 4, 5, 6, 7, 8, 30]);
  return g.pick(["x", "a", " ", ""]) +
    Array.from({ length: n }, (_, i) => MARKS[i % MARKS.length]).join("");
}

/** Splices 1–3 hostile pieces into `s` (or makes it of them alone). */
function withHostile(g: Rng, s: string): string {
  let out = g.chance(0.15) ? "" : s;
  for (let i = g.int(1, 3); i > 0; i--) {
    const at = g.int(0, out.length);
    // Keep surrogate pairs whole.
    const cut = /[\udc00-\udfff]/.test(out[at] ?? "") ? at - 1 : at;
    out = out.slice(0, cut) + hostilePiece(g) + out.slice(cut);
  }
  return out;
}

/** Names and texts with bidi controls, invisibles, look-alikes and stacked marks. */
function genHostileText(g: Rng, ctx: GenContext): Case {
  const fields = messageFields(g, ctx);
  const where = g.pick(["author", "text", "both"]);
  if (where !== "text") fields.author = withHostile(g, fields.author ?? "");
  if (where !== "author") fields.text = withHostile(g, fields.text ?? "");
  const typing = g.chance(0.2);
  if (typing) delete fields.text;
  const asForm = g.chance(0.35);
  return postCase(
    g,
    ctx,
    "hostile-text",
    typing ? "/typing" : "/messages",
    g.pick(asForm ? FORM_TYPES : JSON_TYPES),
    encoder.encode(asForm ? formOf(fields) : JSON.stringify(fields)),
    { raw: g.chance(0.1) },
  );
}

/** Form bodies with a percent-encoded byte sequence that is not UTF-8 (sometimes one that is). */
function genFormBadBytes(g: Rng, ctx: GenContext): Case {
  const pairs: [string, string][] = [];
  for (const [k, v] of Object.entries(messageFields(g, ctx))) {
    // Lone surrogates would make encodeURIComponent throw.
    if (v !== null) pairs.push([k, encodeURIComponent(v.toWellFormed())]);
  }
  const bytes = g.chance(0.9) ? g.pick(BAD_UTF8) : [0xef, 0xbf, 0xbd];
  const encoded = bytes.map((b) => `%${b.toString(16).padStart(2, "0")}`).join(
    "",
  );
  const pair = g.int(0, pairs.length);
  if (pair === pairs.length) pairs.push([`x${encoded}`, "1"]);
  else {
    const [k, v] = pairs[pair];
    const at = g.int(0, v.length);
    // Not inside another %XX escape.
    const escape = v.lastIndexOf("%", at - 1);
    const cut = escape !== -1 && escape > at - 3 ? escape : at;
    pairs[pair] = [k, v.slice(0, cut) + encoded + v.slice(cut)];
  }
  return postCase(
    g,
    ctx,
    "form-bad-bytes",
    g.chance(0.85) ? "/messages" : "/typing",
    g.pick(FORM_TYPES),
    encoder.encode(pairs.map(([k, v]) => `${k}=${v}`).join("&")),
    { raw: g.chance(0.15) },
  );
}

const GENERATORS: readonly (readonly [
  (g: Rng, ctx: GenContext) => Case,
  number,
])[] = [
  [genValidPost, 18],
  [genValidGet, 8],
  [genJsonGarbage, 12],
  [genInvalidUtf8, 6],
  [genFormOdd, 8],
  [genContentType, 6],
  [genOversized, 4],
  [genOddMethod, 6],
  [genOddPath, 7],
  [genMessagesQuery, 7],
  [genStreamQuery, 7],
  [genBigHeaders, 3],
  [genTruncated, 5],
  [genRawJunk, 5],
  [genTyping, 5],
  [genOrigin, 2],
  [genAdmin, 3],
  [genHostileText, 8],
  [genFormBadBytes, 4],
];

function generate(seed: number, index: number, ctx: GenContext): Case {
  const g = new Rng(caseSeed(seed, index));
  return g.weighted(GENERATORS)(g, ctx);
}

// ---------------------------------------------------------------------------
// Sending

interface Answer {
  status: number;
  headers: Headers;
  /** The body as text; for an event stream, its first chunk only. */
  body: string;
}

type Outcome =
  | { answer: Answer }
  | { dropped: string }
  | { timedOut: true }
  | { sentOnly: true };

function errorText(error: unknown): string {
  return error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
}

async function sendFetch(base: string, c: FetchCase): Promise<Outcome> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, REQUEST_TIMEOUT_MS);
  try {
    let body: BodyInit | undefined = c.body;
    if (c.body !== undefined && c.chunks !== undefined) {
      const whole = c.body;
      const sizes = [...c.chunks];
      let offset = 0;
      body = new ReadableStream<Uint8Array>({
        pull(stream) {
          const size = sizes.shift();
          if (size === undefined) return stream.close();
          stream.enqueue(whole.subarray(offset, offset + size));
          offset += size;
        },
      });
    }
    const res = await fetch(base + c.target, {
      method: c.method,
      headers: c.headers,
      body,
      redirect: "manual",
      signal: controller.signal,
    });
    let text: string;
    if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
      // A stream stays open: its first chunk (retry line and hello) is
      // enough, then hang up.
      const reader = res.body?.getReader();
      const first = await reader?.read();
      await reader?.cancel();
      text = decoder.decode(first?.value ?? new Uint8Array());
    } else {
      text = await res.text();
    }
    return { answer: { status: res.status, headers: res.headers, body: text } };
  } catch (error) {
    return timedOut ? { timedOut: true } : { dropped: errorText(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Parses one HTTP/1.1 answer from `data` if complete; interim 1xx answers are skipped. */
function parseAnswer(
  data: Uint8Array,
  head: boolean,
  ended: boolean,
): Answer | "incomplete" | "malformed" {
  let start = 0;
  for (;;) {
    const rest = data.subarray(start);
    const end = indexOfBytes(rest, encoder.encode("\r\n\r\n"));
    if (end === -1) return ended ? "malformed" : "incomplete";
    const lines = latin1(rest.subarray(0, end)).split("\r\n");
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!match) return "malformed";
    const status = Number(match[1]);
    if (status >= 100 && status < 200) {
      start += end + 4;
      continue;
    }
    const headers = new Headers();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        try {
          headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
        } catch {
          // A header Headers refuses: irrelevant to what is checked.
        }
      }
    }
    const body = rest.subarray(end + 4);
    const done = (bytes: Uint8Array): Answer => ({
      status,
      headers,
      body: decoder.decode(bytes),
    });
    if (head || status === 204 || status === 304) return done(body);
    if (headers.get("content-type")?.startsWith("text/event-stream")) {
      // An open stream: its first chunk is enough (without the chunk-size
      // line of the chunked encoding).
      const first = /^[0-9a-f]+\r\n/i.exec(latin1(body.subarray(0, 16)));
      if (first === null) return ended ? done(body) : "incomplete";
      return done(body.subarray(first[0].length));
    }
    const length = headers.get("content-length");
    if (length !== null) {
      return body.byteLength >= Number(length)
        ? done(body.subarray(0, Number(length)))
        : ended
        ? "malformed"
        : "incomplete";
    }
    if (headers.get("transfer-encoding")?.includes("chunked")) {
      const tail = latin1(body.subarray(Math.max(0, body.byteLength - 7)));
      if (!tail.endsWith("0\r\n\r\n")) {
        return ended ? "malformed" : "incomplete";
      }
      const parts: Uint8Array[] = [];
      let at = 0;
      for (;;) {
        const lineEnd = indexOfBytes(body.subarray(at), encoder.encode("\r\n"));
        const size = parseInt(latin1(body.subarray(at, at + lineEnd)), 16);
        if (!(size > 0)) break;
        parts.push(body.subarray(at + lineEnd + 2, at + lineEnd + 2 + size));
        at += lineEnd + 2 + size + 2;
      }
      return done(bytesOf(...parts));
    }
    return ended ? done(body) : "incomplete";
  }
}

async function sendRaw(port: number, c: RawCase): Promise<Outcome> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch (error) {
    return { dropped: `connect failed: ${errorText(error)}` };
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.close();
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    close();
  }, REQUEST_TIMEOUT_MS);
  let writeError: string | null = null;
  try {
    try {
      for (let offset = 0; offset < c.bytes.byteLength;) {
        offset += await conn.write(c.bytes.subarray(offset));
      }
    } catch (error) {
      // The server may answer and close before reading everything; the
      // answer may still be readable.
      writeError = errorText(error);
    }
    if (c.mode === "close") return { sentOnly: true };
    if (c.mode === "half-close" && writeError === null) {
      await conn.closeWrite().catch(() => {});
    }
    const buffer = new Uint8Array(64 * 1024);
    let data: Bytes = new Uint8Array();
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch (error) {
        if (timedOut) return { timedOut: true };
        const parsed = parseAnswer(data, c.head === true, true);
        return typeof parsed === "string"
          ? { dropped: `read failed: ${errorText(error)}` }
          : { answer: parsed };
      }
      if (n !== null) data = bytesOf(data, buffer.subarray(0, n));
      const parsed = parseAnswer(data, c.head === true, n === null);
      if (typeof parsed !== "string") return { answer: parsed };
      if (parsed === "malformed") {
        return {
          dropped: data.byteLength === 0
            ? `closed without an answer${
              writeError ? ` (write: ${writeError})` : ""
            }`
            : `unparseable answer: ${preview(data, 200)}`,
        };
      }
      if (n === null) return { dropped: "closed mid-answer" };
      if (data.byteLength > 8 * 1024 * 1024) {
        return { dropped: "answer over 8 MiB" };
      }
    }
  } finally {
    clearTimeout(timer);
    close();
  }
}

// ---------------------------------------------------------------------------
// Checking answers

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function asMessage(value: unknown): Message | null {
  if (typeof value !== "object" || value === null) return null;
  const m = value as Record<string, unknown>;
  const ok = typeof m.id === "number" && Number.isSafeInteger(m.id) &&
    m.id > 0 && typeof m.author === "string" && typeof m.text === "string" &&
    typeof m.createdAt === "string" && ISO_UTC.test(m.createdAt) &&
    (m.clientId === null || typeof m.clientId === "string");
  return ok ? value as Message : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

interface KindStats {
  cases: number;
  statuses: Map<string, number>;
}

interface Finding {
  index: number;
  kind: Kind;
  request: string;
  problem: string;
}

interface RunState {
  created: Map<number, Message>;
  /** 200 answers to POST /messages: a repeated clientId found its original. */
  repeats: { id: number; clientId: string | null }[];
  /** Messages a DELETE with the admin token removed (204). */
  deleted: Set<number>;
  /**
   * Findings grouped by kind and the shape of the problem: one bug tends to
   * show up hundreds of times, and a few examples of each say enough.
   */
  findings: Map<string, { count: number; examples: Finding[] }>;
  stats: Map<Kind, KindStats>;
  /** Rejections by Deno's HTTP layer (no app headers), by status. */
  httpLayer: Map<number, number>;
  /** GET / while no client is built: the app's documented 503. */
  noClient: number;
  dropped: number;
  /** Why connections closed without an answer, for the summary. */
  dropReasons: Map<string, number>;
  sentOnly: number;
  cases: number;
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** GET / answers 503 text "build the client first" when dist/ is missing, as in tests. */
function isNoClientAnswer(a: Answer): boolean {
  return a.status === 503 &&
    (a.headers.get("content-type") ?? "").startsWith("text/plain") &&
    (a.body === "" || a.body.startsWith("Plaza's client is not built yet"));
}

function checkAnswer(c: Case, a: Answer, state: RunState): string[] {
  const problems: string[] = [];
  // secureHeaders() marks every answer that went through the app.
  const fromApp = a.headers.has("x-frame-options");
  const head = c.via === "raw" ? c.head === true : c.method === "HEAD";
  if (a.status >= 500) {
    if (fromApp && isNoClientAnswer(a)) {
      state.noClient++;
      return problems;
    }
    problems.push(
      `answered ${a.status} (${
        fromApp ? "from the app" : "from the HTTP layer"
      }): ${clip(a.body, 300)}`,
    );
    return problems;
  }
  if (!fromApp) {
    if (a.status >= 400) {
      state.httpLayer.set(a.status, (state.httpLayer.get(a.status) ?? 0) + 1);
    } else {
      problems.push(`answered ${a.status} without the app's headers`);
    }
    return problems;
  }
  if (a.status >= 400) {
    if (head) {
      if (!a.headers.get("content-type")?.startsWith("application/json")) {
        problems.push(
          `${a.status} to HEAD without a JSON content type (${
            a.headers.get("content-type")
          })`,
        );
      }
    } else {
      const json = parseJson(a.body);
      const keys = typeof json === "object" && json !== null
        ? Object.keys(json)
        : [];
      const error = (json as { error?: unknown } | undefined)?.error;
      if (
        keys.length !== 1 || typeof error !== "string" || error.trim() === ""
      ) {
        problems.push(
          `${a.status} without a JSON {"error": sentence} body: ${
            clip(a.body, 300)
          }`,
        );
      }
    }
    if (a.status === 405 && !a.headers.has("allow")) {
      problems.push("405 without an Allow header");
    }
    if (a.status === 429 && !a.headers.has("retry-after")) {
      problems.push("429 without a Retry-After header");
    }
  }
  if (c.expect !== undefined && !c.expect.includes(a.status)) {
    problems.push(
      `expected ${c.expect.join(" or ")}, got ${a.status}: ${
        clip(a.body, 300)
      }`,
    );
  }
  if (c.route === "POST /messages" && (a.status === 201 || a.status === 200)) {
    const message = asMessage(parseJson(a.body));
    if (message === null) {
      problems.push(`${a.status} without a message: ${clip(a.body, 300)}`);
      return problems;
    }
    if (a.headers.get("location") !== `/messages/${message.id}`) {
      problems.push(`Location ${a.headers.get("location")} for ${message.id}`);
    }
    if (a.status === 201) {
      if (state.created.has(message.id)) {
        problems.push(`a second 201 for message ${message.id}`);
      }
      state.created.set(message.id, message);
      if (
        c.post !== undefined && (message.author !== c.post.author ||
          message.text !== c.post.text || message.clientId !== c.post.clientId)
      ) {
        problems.push(
          `stored ${JSON.stringify(message)} for ${JSON.stringify(c.post)}`,
        );
      }
    } else {
      state.repeats.push({ id: message.id, clientId: message.clientId });
      if (c.post !== undefined && message.clientId !== c.post.clientId) {
        problems.push(
          `200 with clientId ${message.clientId}, sent ${c.post.clientId}`,
        );
      }
    }
  }
  if (c.route === "GET /messages" && a.status === 200 && !head) {
    const page = parseJson(a.body) as
      | { messages?: unknown; hasMore?: unknown }
      | undefined;
    const messages = Array.isArray(page?.messages)
      ? (page.messages as unknown[]).map(asMessage)
      : null;
    if (
      messages === null || typeof page?.hasMore !== "boolean" ||
      messages.some((m, i) =>
        m === null || (i > 0 && m.id <= (messages[i - 1]?.id ?? Infinity))
      )
    ) {
      problems.push(`a malformed page: ${clip(a.body, 300)}`);
    }
  }
  if (c.deletes !== undefined && a.status === 204) {
    state.deleted.add(c.deletes);
  }
  if (c.route === "GET /messages/:id" && a.status === 200 && !head) {
    if (asMessage(parseJson(a.body)) === null) {
      problems.push(`not a message: ${clip(a.body, 300)}`);
    }
  }
  if (c.route === "GET /stream" && a.status === 200 && !head) {
    if (!a.body.startsWith("retry:")) {
      problems.push(
        `a stream that starts ${JSON.stringify(a.body.slice(0, 80))}`,
      );
    }
  }
  return problems;
}

async function runCase(
  index: number,
  c: Case,
  plaza: { url: string; port: number },
  state: RunState,
): Promise<Outcome> {
  const outcome = c.via === "fetch"
    ? await sendFetch(plaza.url, c)
    : await sendRaw(plaza.port, c);
  state.cases++;
  let stats = state.stats.get(c.kind);
  if (stats === undefined) {
    stats = { cases: 0, statuses: new Map() };
    state.stats.set(c.kind, stats);
  }
  stats.cases++;
  let problems: string[] = [];
  if ("answer" in outcome) {
    count(stats.statuses, String(outcome.answer.status));
    problems = checkAnswer(c, outcome.answer, state);
  } else if ("timedOut" in outcome) {
    count(stats.statuses, "timeout");
    problems = [`no answer within ${REQUEST_TIMEOUT_MS} ms (a hang)`];
  } else if ("dropped" in outcome) {
    count(stats.statuses, "dropped");
    state.dropped++;
    count(state.dropReasons, `${c.kind}: ${outcome.dropped.slice(0, 70)}`);
    if (!c.mayDrop) problems = [`no answer: ${outcome.dropped}`];
  } else {
    count(stats.statuses, "sent");
    state.sentOnly++;
  }
  for (const problem of problems) {
    addFinding(state, {
      index,
      kind: c.kind,
      request: describeCase(c),
      problem,
    });
  }
  return outcome;
}

function addFinding(state: RunState, finding: Finding): void {
  const key = `${finding.kind}: ${
    finding.problem.replace(/\d+/g, "N").slice(0, 60)
  }…`;
  const group = state.findings.get(key) ?? { count: 0, examples: [] };
  group.count++;
  if (group.examples.length < EXAMPLES_PER_GROUP) group.examples.push(finding);
  state.findings.set(key, group);
}

// ---------------------------------------------------------------------------
// Checks after the run

/** Rejects after `ms` so a stuck step fails the test instead of hanging it. */
async function within<T>(
  ms: number,
  what: string,
  work: Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what}: nothing after ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// Checked apart from message.ts, so that a validator that lets one through
// (and so predicts a 201) is still caught.
const NAME_BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const NAME_INVISIBLE =
  /[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u2060-\u206f\u3164\ufe00-\ufe0d\ufeff\uffa0\u{e0000}-\u{e001f}\u{e0080}-\u{e00ff}\u{e01f0}-\u{e0fff}]/u;

/** The name and text rules of README.md a stored row breaks. */
function brokenRules(row: Row): string[] {
  const broken: string[] = [];
  if (NAME_BIDI.test(row.author)) broken.push("a bidi control in the author");
  if (NAME_INVISIBLE.test(row.author)) broken.push("an invisible author char");
  if (row.author !== row.author.normalize("NFKC")) {
    broken.push("an author not folded to NFKC");
  }
  if (/\p{M}{5}/u.test(row.author)) broken.push("5+ marks in the author");
  if (/\p{M}{7}/u.test(row.text)) broken.push("7+ marks in the text");
  for (const field of [row.author, row.text]) {
    if (!/[\p{L}\p{N}\p{P}\p{S}]/u.test(field)) broken.push("nothing visible");
  }
  return broken;
}

interface Row {
  id: string;
  author: string;
  text: string;
  client_id: string | null;
}

/** Every stored row must be what the validator would store, and exactly the 201s. */
async function checkStored(
  base: string,
  databaseUrl: string,
  state: RunState,
): Promise<string[]> {
  const problems: string[] = [];
  const sql = postgres(databaseUrl, { onnotice: () => {}, max: 1 });
  let rows: Row[];
  try {
    rows = await sql<Row[]>`
      select id::text as id, author, text, client_id::text as client_id
      from messages order by messages.id`;
  } finally {
    await sql.end({ timeout: 1 });
  }
  for (const row of rows) {
    const broken = brokenRules(row);
    if (broken.length > 0) {
      problems.push(
        `row ${row.id} ${
          JSON.stringify({ author: row.author, text: clip(row.text, 200) })
        } breaks: ${broken.join(", ")}`,
      );
    }
    const again = validateMessageInput({
      author: row.author,
      text: row.text,
      clientId: row.client_id,
    });
    if (
      !again.ok || again.value.author !== row.author ||
      again.value.text !== row.text
    ) {
      problems.push(
        `stored garbage: row ${row.id} ${
          JSON.stringify({ author: row.author, text: clip(row.text, 200) })
        } ${
          again.ok ? "is not normalised" : `fails validation (${again.error})`
        }`,
      );
    }
    const answered = state.created.get(Number(row.id));
    if (answered === undefined) {
      problems.push(`row ${row.id} was stored without a 201 answer`);
    } else if (
      answered.author !== row.author || answered.text !== row.text ||
      answered.clientId !== row.client_id
    ) {
      problems.push(`row ${row.id} differs from its 201 answer`);
    }
  }
  const stored = new Set(rows.map((r) => Number(r.id)));
  const kept = [...state.created.keys()].filter((id) => !state.deleted.has(id));
  if (rows.length !== kept.length) {
    problems.push(
      `${rows.length} rows stored, ${state.created.size} answered 201 and ${state.deleted.size} of them were deleted`,
    );
  }
  for (const id of state.deleted) {
    if (stored.has(id)) problems.push(`message ${id} deleted (204) but stored`);
  }
  for (const repeat of state.repeats) {
    if (!stored.has(repeat.id) && !state.deleted.has(repeat.id)) {
      problems.push(`a 200 repeat named message ${repeat.id}, never stored`);
    }
  }
  // The API pages through the same rows.
  const paged: Message[] = [];
  for (let after = 0;;) {
    const res = await fetch(`${base}/messages?after=${after}&limit=200`);
    const page = await res.json() as { messages: Message[]; hasMore: boolean };
    if (res.status !== 200) {
      problems.push(`GET /messages?after=${after} answered ${res.status}`);
      break;
    }
    paged.push(...page.messages);
    if (!page.hasMore || page.messages.length === 0) break;
    after = page.messages[page.messages.length - 1].id;
  }
  const pagedView = paged.map((m) =>
    JSON.stringify([m.id, m.author, m.text, m.clientId])
  );
  const rowView = rows.map((r) =>
    JSON.stringify([Number(r.id), r.author, r.text, r.client_id])
  );
  const differs = Array.from(
    { length: Math.max(pagedView.length, rowView.length) },
    (_, i) => i,
  ).find((i) => pagedView[i] !== rowView[i]);
  if (differs !== undefined) {
    problems.push(
      `GET /messages paging gave ${paged.length} messages, the table has ${rows.length}; first difference: API ${
        clip(pagedView[differs] ?? "none", 300)
      } vs table ${clip(rowView[differs] ?? "none", 300)}`,
    );
  }
  return problems;
}

/** After the run: no stream stays counted, and a plain chat works end to end. */
async function checkChat(base: string): Promise<string[]> {
  const problems: string[] = [];
  const stream = await openSse(`${base}/stream?history=0`);
  try {
    if (stream.response.status !== 200) {
      return [`GET /stream answered ${stream.response.status}`];
    }
    // Presence counts every open stream on the instance: once the fuzz
    // streams are all cancelled, only this one is left.
    const online = () =>
      stream.events.filter((e) => e.event === "presence").map((e) =>
        (JSON.parse(e.data) as { online: number }).online
      );
    try {
      await within(
        20_000,
        "presence back to 1",
        stream.until(() => online().at(-1) === 1),
      );
    } catch {
      problems.push(
        `streams still counted after the run: presence says ${
          JSON.stringify(online())
        }`,
      );
    }
    const sent = await postJson(base, "after fuzz", "still works");
    await within(
      10_000,
      "the posted message on the stream",
      stream.untilMessages(1),
    );
    const got = stream.events.find((e) => e.event === "message");
    if (
      got === undefined ||
      JSON.stringify(JSON.parse(got.data)) !== JSON.stringify(sent)
    ) {
      problems.push(
        `the stream carried ${got?.data}, posted ${JSON.stringify(sent)}`,
      );
    }
  } finally {
    await stream.close();
  }
  return problems;
}

// ---------------------------------------------------------------------------
// The test

function summary(state: RunState, elapsedMs: number): string {
  const lines = [
    `fuzz: ${state.cases} requests in ${(elapsedMs / 1000).toFixed(1)} s (${
      Math.round(state.cases / (elapsedMs / 1000))
    }/s); ${state.created.size} messages stored (201), ${state.repeats.length} repeats (200), ${state.deleted.size} deleted (204)`,
  ];
  const kinds = [...state.stats.entries()].sort((a, b) =>
    b[1].cases - a[1].cases
  );
  for (const [kind, stats] of kinds) {
    const statuses = [...stats.statuses.entries()].sort().map(([s, n]) =>
      `${s}×${n}`
    ).join(" ");
    lines.push(
      `  ${kind.padEnd(15)} ${String(stats.cases).padStart(6)}  ${statuses}`,
    );
  }
  lines.push(
    `  HTTP-layer rejections (no app headers): ${
      [...state.httpLayer.entries()].map(([s, n]) => `${s}×${n}`).join(" ") ||
      "none"
    }; closed without answer (allowed): ${state.dropped}; sent then closed unread: ${state.sentOnly}; GET / without a built client (503): ${state.noClient}`,
  );
  const reasons = [...state.dropReasons.entries()].sort((a, b) => b[1] - a[1]);
  for (const [reason, n] of reasons.slice(0, 8)) {
    lines.push(`    dropped ${n}× ${reason}`);
  }
  return lines.join("\n");
}

Deno.test("fuzz: malformed and random requests never get a 5xx, store garbage or break the chat", async () => {
  const settings = readSettings();
  console.log(
    `fuzz: seed ${settings.seed} (replay: FUZZ_SEED=${settings.seed}), ${
      settings.only === null
        ? `${settings.seconds} s (FUZZ_SECONDS)`
        : `case ${settings.only} only`
    }`,
  );
  await withTestDatabase(async (databaseUrl) => {
    const plaza = await startTestInstance(databaseUrl, {
      // The default typing limit would answer nearly every fuzzed /typing
      // with 429 and leave its body parsing untested.
      TYPING_RATE: "100000/1s",
      TYPING_BURST: "100000",
      // Moderation on, so DELETE /messages/:id and its token check are
      // fuzzed too; only cases that use this token can delete.
      ADMIN_TOKEN,
      // The fuzzer sends hundreds of wrong tokens from one address: with the
      // limit on, every later admin case (the right token too) would be a
      // 429 and the delete path would go unfuzzed. The limit has its own
      // tests in app_test.ts.
      AUTH_FAILURE_RATE: "off",
    });
    try {
      const poolRng = new Rng(caseSeed(settings.seed, -1));
      const ctx: GenContext = {
        host: `127.0.0.1:${plaza.port}`,
        pool: Array.from({ length: 6 }, () => poolRng.uuid()),
        adminToken: ADMIN_TOKEN,
      };
      const state: RunState = {
        created: new Map(),
        repeats: [],
        deleted: new Set(),
        findings: new Map(),
        stats: new Map(),
        httpLayer: new Map(),
        noClient: 0,
        dropped: 0,
        dropReasons: new Map(),
        sentOnly: 0,
        cases: 0,
      };
      // The server runs in this process: an error it logs (a 500 to a client
      // that already hung up, say) shows up here even when no answer does.
      const logged: string[] = [];
      const consoleError = console.error;
      console.error = (...args: unknown[]) => {
        logged.push(
          args.map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(
            " ",
          ),
        );
      };
      const started = Date.now();
      try {
        if (settings.only !== null) {
          const c = generate(settings.seed, settings.only, ctx);
          console.log(`case ${settings.only} (${c.kind}): ${describeCase(c)}`);
          const outcome = await runCase(settings.only, c, plaza, state);
          console.log(
            "answer:",
            "answer" in outcome
              ? {
                status: outcome.answer.status,
                headers: Object.fromEntries(outcome.answer.headers),
                body: clip(outcome.answer.body, 2000),
              }
              : outcome,
          );
        } else {
          const deadline = started + settings.seconds * 1000;
          let next = 0;
          const worker = async () => {
            while (Date.now() < deadline) {
              const index = next++;
              try {
                await runCase(
                  index,
                  generate(settings.seed, index, ctx),
                  plaza,
                  state,
                );
              } catch (error) {
                // A bug of the fuzzer itself: report it with the case, and
                // keep the other clients going.
                addFinding(state, {
                  index,
                  kind: "raw-junk",
                  request: "(the fuzzer failed to build or send it)",
                  problem: `fuzzer error: ${Deno.inspect(error)}`,
                });
              }
            }
          };
          await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        }
        // Requests closed unread may still be in the server: let them finish
        // (and log) before judging.
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        console.error = consoleError;
      }
      const elapsed = Date.now() - started;

      const after: string[] = [];
      const health = await fetch(`${plaza.url}/healthz`);
      const healthBody = await health.text();
      if (health.status !== 200) {
        after.push(
          `/healthz answered ${health.status} ${healthBody} after the run`,
        );
      }
      after.push(...await checkStored(plaza.url, databaseUrl, state));
      after.push(...await checkChat(plaza.url));

      console.log(summary(state, elapsed));
      const report: string[] = [];
      for (const [key, group] of state.findings) {
        report.push(`${group.count}× ${key}`);
        for (const f of group.examples) {
          report.push(
            `  #${f.index}: ${f.problem}\n    request: ${f.request}\n    replay: FUZZ_SEED=${settings.seed} FUZZ_CASE=${f.index}`,
          );
        }
      }
      const unhandled = logged.filter((l) =>
        /unhandled|Something went wrong/i.test(l)
      );
      if (logged.length > 0) {
        report.push(
          `the server logged ${logged.length} errors (${unhandled.length} unhandled request errors); first: ${
            clip(logged[0], 1500)
          }`,
        );
      }
      report.push(...after);
      assert.equal(
        report.length,
        0,
        `seed ${settings.seed}:\n${report.join("\n")}`,
      );
    } finally {
      await plaza.close();
    }
  });
});
