import assert from "node:assert/strict";
import { Hono } from "hono";
import { loadConfig } from "../config.ts";
import { createLogger } from "../observe/logger.ts";
import type { AppEnv } from "./app_env.ts";
import { ORIGIN_REFUSAL_LOG_MS, originCheck } from "./origin_check.ts";

/** An app behind originCheck whose POST / answers 201; `lines` gets the log. */
function setup(env: Record<string, string> = {}) {
  const config = loadConfig(env);
  const lines: Record<string, unknown>[] = [];
  let clock = 0;
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    c.set("requestId", "req-1");
    await next();
  });
  app.use(
    "*",
    originCheck({
      publicUrl: config.publicUrl,
      allowedOrigins: config.allowedOrigins,
      trustProxy: config.trustProxy,
      logger: createLogger({
        level: "info",
        write: (line) => lines.push(JSON.parse(line)),
      }),
      now: () => clock,
    }),
  );
  app.post("/", (c) => c.body(null, 201));
  app.get("/", (c) => c.body(null, 200));
  /** POSTs from `peer` with these headers; returns the status. */
  const post = async (
    peer: string,
    headers: Record<string, string>,
    method = "POST",
  ) => {
    const res = await app.request("http://any/", { method, headers }, {
      remoteAddr: { transport: "tcp", hostname: peer, port: 40000 },
    });
    await res.body?.cancel();
    return res.status;
  };
  return { post, lines, tick: (ms: number) => (clock += ms) };
}

Deno.test("straight to the instance: a page on the Host it asked for may post, other sites may not", async () => {
  const { post } = setup();
  const host = { Host: "127.0.0.1:8000" };
  assert.equal(
    await post("127.0.0.1", { ...host, Origin: "http://127.0.0.1:8000" }),
    201,
  );
  // Scheme aside: TLS may end in front without saying so.
  assert.equal(
    await post("127.0.0.1", { ...host, Origin: "https://127.0.0.1:8000" }),
    201,
  );
  assert.equal(
    await post("127.0.0.1", { ...host, Origin: "http://127.0.0.1:8001" }),
    403,
  );
  assert.equal(await post("127.0.0.1", { ...host, Origin: "null" }), 403);
  assert.equal(
    await post("127.0.0.1", { ...host, Origin: "https://evil.example" }),
    403,
  );
  // No Origin (curl, scripts) and safe methods pass.
  assert.equal(await post("127.0.0.1", host), 201);
  assert.equal(
    await post("127.0.0.1", { ...host, Origin: "https://evil.example" }, "GET"),
    200,
  );
});

Deno.test("behind a trusted proxy X-Forwarded-Host and -Proto name the app's origin; from anyone else they are ignored", async () => {
  const { post } = setup({ TRUST_PROXY: "10.0.0.5" });
  // nginx's plain proxy_pass: Host is the upstream's name.
  const viaNginx = {
    Host: "plaza_upstream",
    "X-Forwarded-Host": "chat.example.com:8443",
    "X-Forwarded-Proto": "https",
  };
  const own = "https://chat.example.com:8443";
  assert.equal(await post("10.0.0.5", { ...viaNginx, Origin: own }), 201);
  assert.equal(
    await post("10.0.0.5", {
      ...viaNginx,
      Origin: "http://chat.example.com:8443",
    }),
    403,
  );
  assert.equal(
    await post("10.0.0.5", { ...viaNginx, Origin: "https://evil.example" }),
    403,
  );
  // Sent straight to the instance, the header is the client's claim.
  assert.equal(
    await post("198.51.100.7", { ...viaNginx, Origin: own }),
    403,
  );
  // The default port is the origin's.
  assert.equal(
    await post("10.0.0.5", {
      Host: "plaza_upstream",
      "X-Forwarded-Host": "Chat.Example.com:443",
      "X-Forwarded-Proto": "https",
      Origin: "https://chat.example.com",
    }),
    201,
  );
  // Chained proxies: the first entry is what the browser asked for.
  assert.equal(
    await post("10.0.0.5", {
      Host: "plaza_upstream",
      "X-Forwarded-Host": "chat.example.com, inner.local",
      Origin: "https://chat.example.com",
    }),
    201,
  );
});

Deno.test("behind a trusted proxy the RFC 7239 Forwarded header counts too", async () => {
  const { post } = setup({ TRUST_PROXY: "10.0.0.0/8" });
  const forwarded = (value: string, origin: string) =>
    post("10.1.2.3", {
      Host: "plaza:8000",
      Forwarded: value,
      Origin: origin,
    });
  assert.equal(
    await forwarded(
      'for=198.51.100.7;host="chat.example.com:8443";proto=https, for=10.0.0.9',
      "https://chat.example.com:8443",
    ),
    201,
  );
  assert.equal(
    await forwarded(
      "for=198.51.100.7;host=chat.example.com;proto=http",
      "https://chat.example.com",
    ),
    403,
  );
  // A Host-shaped value only: no user info or path sneaks through.
  assert.equal(
    await forwarded(
      'host="evil.example/@chat.example.com"',
      "https://evil.example",
    ),
    403,
  );
});

Deno.test("PUBLIC_URL and ALLOWED_ORIGINS are allowed whatever Host the proxy sends", async () => {
  const { post } = setup({
    PUBLIC_URL: "https://chat.example.com:8443",
    ALLOWED_ORIGINS: "https://friend.example",
  });
  // Debian's proxy_params: Host is $host, which drops the port.
  const host = { Host: "chat.example.com" };
  assert.equal(
    await post("10.0.0.5", {
      ...host,
      Origin: "https://chat.example.com:8443",
    }),
    201,
  );
  assert.equal(
    await post("10.0.0.5", { ...host, Origin: "https://friend.example" }),
    201,
  );
  assert.equal(
    await post("10.0.0.5", { ...host, Origin: "https://evil.example" }),
    403,
  );
});

Deno.test("a refusal is logged at warn with the origin and the host it was compared with, at most once per interval", async () => {
  const { post, lines, tick } = setup({ TRUST_PROXY: "10.0.0.5" });
  const refused = {
    Host: "plaza_upstream",
    "X-Forwarded-Host": "chat.example.com:8443",
    Origin: "https://chat.example.com",
  };
  assert.equal(await post("10.0.0.5", refused), 403);
  assert.equal(lines.length, 1);
  const [line] = lines;
  assert.equal(line.level, "warn");
  assert.equal(line.event, "origin_refused");
  assert.equal(line.origin, "https://chat.example.com");
  assert.equal(line.host, "chat.example.com:8443");
  assert.equal(line.source, "X-Forwarded-Host");
  assert.equal(line.requestId, "req-1");
  assert.match(String(line.message), /PUBLIC_URL/);
  // A flood of refusals: one line per interval, counting the rest.
  assert.equal(await post("10.0.0.5", refused), 403);
  assert.equal(await post("10.0.0.5", { Host: "a", Origin: "http://b" }), 403);
  assert.equal(lines.length, 1);
  tick(ORIGIN_REFUSAL_LOG_MS);
  assert.equal(
    await post("198.51.100.7", { Host: "a:1", Origin: "http://b" }),
    403,
  );
  assert.equal(lines.length, 2);
  assert.equal(lines[1].unlogged, 2);
  assert.equal(lines[1].host, "a:1");
  assert.equal(lines[1].source, "Host");
});
