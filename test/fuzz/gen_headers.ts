/** Generators that bend the head: content types, body sizes, huge headers, origins. */
import { MAX_BODY_BYTES } from "../../server/http/request_fields.ts";
import { type Bytes, bytesOf, encoder } from "./bytes.ts";
import type { Case, GenContext } from "./cases.ts";
import { predictPost } from "./oracle_post.ts";
import { postCase, rawRequest } from "./requests.ts";
import type { Rng } from "./rng.ts";
import { formOf, JSON_TYPES, messageFields } from "./text_pools.ts";

/** Content types the app must refuse (415) or parse with care; null: no header. */
// deno-fmt-ignore
export const ODD_TYPES: readonly (string | null)[] = [
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

/** A valid post under an odd (or doubled) Content-Type. */
export function genContentType(g: Rng, ctx: GenContext): Case {
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

/** Bodies over, at and around MAX_BODY_BYTES: declared, chunked, or a Content-Length alone. */
export function genOversized(g: Rng, ctx: GenContext): Case {
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

/** Requests with one huge header, thousands of them, or a huge Content-Type. */
export function genBigHeaders(g: Rng, ctx: GenContext): Case {
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

/** Posts with an Origin header: the app's own, another, or garbage. */
export function genOrigin(g: Rng, ctx: GenContext): Case {
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
