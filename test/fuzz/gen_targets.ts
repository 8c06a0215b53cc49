/** Generators of odd request lines: methods, paths, and the query strings of /messages and /stream. */
import { bytesOf, encoder, latin1ToBytes } from "./bytes.ts";
import type { Case, GenContext } from "./cases.ts";
import { rawRequest } from "./requests.ts";
import type { Rng } from "./rng.ts";

/** Paths the app serves (and one it does not). */
// deno-fmt-ignore
export const KNOWN_PATHS = [
  "/", "/messages", "/messages/1", "/stream", "/typing", "/healthz",
  "/assets/app.js", "/nope", "/reports", "/moderation/reports", "/m/1",
  "/embed",
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

/** Methods other than GET, HEAD and POST, by fetch or raw when fetch will not send them. */
export function genOddMethod(g: Rng, ctx: GenContext): Case {
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
  "/messages/1/2", "/\\messages", "/messages\\1", "/reports/", "/reports/1",
  "/moderation/reports/", "/moderation/reports/x/y", "/REPORTS",
  "/m/", "/m", "/m/x", "/m/0", "/m/-1", "/m/99999999999999999", "/m/1/2", "/m/%00",
  "/m/%FF", "/m/😀", "/M/1", "/m//1", "/embed/", "/EMBED", "/embed?mode=write",
  "/embed?mode=%00", "/embed?mode=write&mode=read", "/embed/1",
];
// deno-fmt-ignore
const RAW_PATHS = [
  "/../../etc/passwd", "/messages/../healthz", "/%2e%2e/%2e%2e/",
  "/assets/../../deno.json", "*", "messages", "/messages/\u00e9", "/a b",
  "/\u0000", "/messages?limit=\u00ff",
];

/** Paths that are near misses, traversals, bad escapes, very long, or absolute-form. */
export function genOddPath(g: Rng, ctx: GenContext): Case {
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

// Search words: plain, empty, too long, NUL and bad escapes, tsquery
// operators, SQL, stop words, non-Latin text. No raw spaces: the raw cases
// send the target unencoded.
// deno-fmt-ignore
const SEARCH_JUNK = [
  "run", "message", "fuzz", "the", "", "%20", "+", "%00", "a%00b", "%01",
  "%27%26%7C%21%3A%2A%28%29%3C%3E%22%5C", "'", "!", "&", "|", "(((", ")",
  "a:*", "%3C-%3E", "%3C2%3E", "-", "--", '"', "or", "-or+or+-",
  "'; drop table messages; --", "%27%3B--", "%FF", "%E2%82", "%", "%zz", "😀",
  "é".repeat(200), "é".repeat(201), "x".repeat(200), "x".repeat(201),
  "1".repeat(5000), "%E2%80%AE", "日本語", "a+b+c", "%22a+b%22",
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

/** GET /messages with junk before, after, limit and (a search) q parameters. */
export function genMessagesQuery(g: Rng, ctx: GenContext): Case {
  const query = junkQuery(g, [
    ["before", ID_JUNK],
    ["after", ID_JUNK],
    ["limit", LIMIT_JUNK],
    ...(g.chance(0.4) ? [["q", SEARCH_JUNK] as [string, string[]]] : []),
  ]);
  const target = `/messages?${query}`;
  // A search answers newest first; the oracle checks the order by route.
  const route = new URLSearchParams(query).has("q")
    ? "GET /messages?q="
    : "GET /messages";
  if (g.chance(0.1)) {
    return {
      via: "raw",
      kind: "messages-query",
      route,
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
    route,
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

/** GET /stream with junk since, history and Last-Event-ID. */
export function genStreamQuery(g: Rng, ctx: GenContext): Case {
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
