import assert from "node:assert/strict";
import {
  ConfigError,
  inAddressRange,
  loadConfig,
  parseIpAddress,
  proxyTrustWarning,
} from "./config.ts";

Deno.test("loadConfig gives the documented defaults", () => {
  const config = loadConfig({});
  assert.equal(config.port, 8000);
  assert.equal(config.databaseUrl, null);
  assert.equal(config.dataDir, "./data");
  assert.equal(config.heartbeatMs, 15_000);
  assert.equal(config.distDir, "./dist");
  assert.equal(config.bodyTimeoutMs, 10_000);
});

Deno.test("loadConfig reads the variables it documents", () => {
  const config = loadConfig({
    PORT: "9000",
    DATABASE_URL: "postgres://u@db:5432/plaza",
    DATA_DIR: "/var/plaza",
    HEARTBEAT_MS: "500",
    HOST: "127.0.0.1",
    BODY_TIMEOUT_MS: "250",
  });
  assert.equal(config.port, 9000);
  assert.equal(config.databaseUrl, "postgres://u@db:5432/plaza");
  assert.equal(config.dataDir, "/var/plaza");
  assert.equal(config.heartbeatMs, 500);
  assert.equal(config.hostname, "127.0.0.1");
  assert.equal(config.bodyTimeoutMs, 250);
});

Deno.test("loadConfig treats empty values as unset", () => {
  assert.equal(loadConfig({ DATABASE_URL: "  ", PORT: "" }).databaseUrl, null);
});

Deno.test("loadConfig names the variable that is wrong", () => {
  assert.throws(() => loadConfig({ PORT: "eighty" }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /^PORT must be a whole number/);
    return true;
  });
  assert.throws(() => loadConfig({ PORT: "70000" }), /PORT/);
  assert.throws(() => loadConfig({ HEARTBEAT_MS: "-1" }), /HEARTBEAT_MS/);
  assert.throws(() => loadConfig({ BODY_TIMEOUT_MS: "0" }), /BODY_TIMEOUT_MS/);
  assert.throws(
    () => loadConfig({ DATABASE_URL: "mysql://x" }),
    /DATABASE_URL must start with postgres/,
  );
});

Deno.test("loadConfig reads ALLOWED_ORIGINS and refuses entries that are not origins", () => {
  assert.deepEqual(loadConfig({}).allowedOrigins, []);
  assert.deepEqual(
    loadConfig({ ALLOWED_ORIGINS: "https://a.example, http://b.example:8080" })
      .allowedOrigins,
    ["https://a.example", "http://b.example:8080"],
  );
  assert.throws(
    () => loadConfig({ ALLOWED_ORIGINS: "https://a.example/path" }),
    /ALLOWED_ORIGINS must list origins/,
  );
  assert.throws(
    () => loadConfig({ ALLOWED_ORIGINS: "a.example" }),
    /ALLOWED_ORIGINS/,
  );
});

Deno.test("loadConfig reads the abuse limits", () => {
  const defaults = loadConfig({});
  assert.deepEqual(defaults.postLimit, { burst: 5, perSecond: 1 });
  assert.deepEqual(defaults.typingLimit, { burst: 3, perSecond: 0.5 });
  assert.deepEqual(defaults.authFailureLimit, { burst: 10, perSecond: 1 / 60 });
  assert.equal(defaults.streamsPerAddress, 20);
  assert.deepEqual(defaults.trustProxy, { kind: "none" });
  assert.equal(defaults.streamMaxAgeMs, 30 * 60_000);
  const set = loadConfig({
    POST_RATE: "30/1m",
    POST_BURST: "10",
    TRUST_PROXY: "true",
    MAX_STREAMS: "500",
    STREAM_MAX_AGE_MS: "0",
  });
  assert.deepEqual(set.postLimit, { burst: 10, perSecond: 0.5 });
  assert.deepEqual(set.trustProxy, { kind: "hops", hops: 1 });
  assert.equal(set.maxStreams, 500);
  assert.equal(set.streamMaxAgeMs, 0);
  assert.throws(
    () => loadConfig({ POST_RATE: "fast" }),
    /POST_RATE must look like 10\/10s/,
  );
  assert.throws(() => loadConfig({ POST_RATE: "0/1s" }), /POST_RATE/);
  // `off`, for the benchmark's own instances: no limit at all.
  const off = loadConfig({
    POST_RATE: "off",
    TYPING_RATE: "OFF",
    AUTH_FAILURE_RATE: "off",
    STREAMS_PER_ADDRESS: "off",
    MAX_STREAMS: "off",
  });
  assert.equal(off.postLimit, null);
  assert.equal(off.typingLimit, null);
  assert.equal(off.authFailureLimit, null);
  assert.equal(off.streamsPerAddress, Infinity);
  assert.equal(off.maxStreams, Infinity);
  assert.throws(() => loadConfig({ MAX_STREAMS: "0" }), /MAX_STREAMS/);
  assert.throws(
    () => loadConfig({ TRUST_PROXY: "maybe" }),
    /TRUST_PROXY must list the proxies' addresses/,
  );
});

Deno.test("TRUST_PROXY takes addresses and CIDR ranges (IPv4 and IPv6), names, a hop count, true or false", () => {
  const ranges = (value: string) => {
    const trust = loadConfig({ TRUST_PROXY: value }).trustProxy;
    assert.equal(trust.kind, "ranges");
    return trust.kind === "ranges" ? trust.ranges : [];
  };
  const [one, net, v6] = ranges("127.0.0.1, 10.0.0.0/8,FD00::/8");
  assert.equal(one.bits, 128);
  assert.equal(net.bits, 96 + 8);
  assert.equal(v6.bits, 8);
  assert.ok(inAddressRange(parseIpAddress("10.200.3.4")!, net));
  assert.ok(!inAddressRange(parseIpAddress("11.0.0.1")!, net));
  assert.ok(inAddressRange(parseIpAddress("fd12:3456::1")!, v6));
  assert.ok(!inAddressRange(parseIpAddress("fe80::1")!, v6));
  // An IPv4 range never takes in IPv6 addresses outside ::ffff:0:0/96.
  assert.ok(!inAddressRange(parseIpAddress("::a00:1")!, net));
  assert.ok(inAddressRange(parseIpAddress("::ffff:10.0.0.1")!, net));
  // Express's names for the usual networks.
  assert.equal(ranges("loopback,uniquelocal").length, 6);
  for (const off of ["", "false", "0", "no", "off"]) {
    assert.deepEqual(loadConfig({ TRUST_PROXY: off }).trustProxy, {
      kind: "none",
    });
  }
  assert.deepEqual(loadConfig({ TRUST_PROXY: "2" }).trustProxy, {
    kind: "hops",
    hops: 2,
  });
  assert.deepEqual(loadConfig({ TRUST_PROXY: "yes" }).trustProxy, {
    kind: "hops",
    hops: 1,
  });
  for (
    const bad of [
      "10.0.0.0/33",
      "fd00::/129",
      "10.0.0",
      "010.0.0.1",
      "256.0.0.1",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "fe80::1%eth0",
      "127.0.0.1,",
      "11",
      "localhost",
    ]
  ) {
    assert.throws(
      () => loadConfig({ TRUST_PROXY: bad }),
      /TRUST_PROXY/,
      bad,
    );
  }
});

Deno.test("parseIpAddress reads every IPv6 spelling into one form and IPv4 as IPv4-mapped", () => {
  const same = (a: string, b: string) =>
    assert.deepEqual(parseIpAddress(a), parseIpAddress(b), `${a} = ${b}`);
  same("::1", "0:0:0:0:0:0:0:1");
  same("2001:DB8::7", "2001:db8:0:0:0:0:0:7");
  same("::ffff:192.0.2.1", "192.0.2.1");
  same("::ffff:c000:201", "192.0.2.1");
  same("64:ff9b::192.0.2.1", "64:ff9b::c000:201");
  same("fe80::1%eth0", "fe80::1");
  same("1:2:3:4:5:6:192.0.2.1", "1:2:3:4:5:6:c000:201");
  assert.equal(parseIpAddress("::")?.length, 16);
  for (
    const bad of [
      "",
      ":",
      ":::",
      "1:2:3:4:5:6:7:8::",
      "::1.2.3",
      "[::1]",
      "1.2.3.4.5",
      "x::1",
    ]
  ) {
    assert.equal(parseIpAddress(bad), null, bad);
  }
});

Deno.test("a trust that believes any peer is warned about at start-up; named proxies are not", () => {
  const warning = (value: string) =>
    proxyTrustWarning(loadConfig({ TRUST_PROXY: value }).trustProxy);
  assert.match(warning("true") ?? "", /every peer.*TRUST_PROXY=127\.0\.0\.1/);
  assert.match(warning("3") ?? "", /TRUST_PROXY=3 takes every peer/);
  assert.equal(warning("10.0.0.0/8"), null);
  assert.equal(warning(""), null);
});

Deno.test("PUBLIC_URL is kept as an origin; a path, credentials or another scheme is refused", () => {
  assert.equal(loadConfig({}).publicUrl, null);
  assert.equal(
    loadConfig({ PUBLIC_URL: "https://Chat.Example.com/" }).publicUrl,
    "https://chat.example.com",
  );
  assert.equal(
    loadConfig({ PUBLIC_URL: "http://127.0.0.1:8080" }).publicUrl,
    "http://127.0.0.1:8080",
  );
  assert.equal(
    loadConfig({ PUBLIC_URL: "https://chat.example.com:443" }).publicUrl,
    "https://chat.example.com",
  );
  for (
    const bad of [
      "chat.example.com",
      "https://chat.example.com/plaza",
      "https://user:pw@chat.example.com",
      "ftp://chat.example.com",
      "https://chat.example.com/?x=1",
    ]
  ) {
    assert.throws(
      () => loadConfig({ PUBLIC_URL: bad }),
      /PUBLIC_URL must be the http\(s\) address/,
      bad,
    );
  }
});

Deno.test("loadConfig takes ADMIN_TOKEN only when it is long enough", () => {
  assert.equal(loadConfig({}).adminToken, null);
  assert.equal(
    loadConfig({ ADMIN_TOKEN: "0123456789abcdef" }).adminToken,
    "0123456789abcdef",
  );
  assert.throws(
    () => loadConfig({ ADMIN_TOKEN: "short" }),
    /ADMIN_TOKEN must be at least 16/,
  );
});

Deno.test("on Deno Deploy, loadConfig refuses to fall back to the embedded database", () => {
  assert.throws(
    () => loadConfig({ DENO_DEPLOYMENT_ID: "abc123" }),
    /on Deno Deploy Plaza needs DATABASE_URL/,
  );
  const config = loadConfig({
    DENO_DEPLOYMENT_ID: "abc123",
    DATABASE_URL: "postgres://u@db/plaza",
  });
  assert.equal(config.databaseUrl, "postgres://u@db/plaza");
});

Deno.test("loadConfig reads LOG_LEVEL (default info) and refuses unknown levels", () => {
  assert.equal(loadConfig({}).logLevel, "info");
  assert.equal(loadConfig({ LOG_LEVEL: "debug" }).logLevel, "debug");
  assert.equal(loadConfig({ LOG_LEVEL: " WARN " }).logLevel, "warn");
  assert.equal(loadConfig({ LOG_LEVEL: "error" }).logLevel, "error");
  assert.throws(
    () => loadConfig({ LOG_LEVEL: "verbose" }),
    /LOG_LEVEL must be one of debug, info, warn, error/,
  );
});

Deno.test("loadConfig takes METRICS_TOKEN only when it is long enough", () => {
  assert.equal(loadConfig({}).metricsToken, null);
  assert.equal(
    loadConfig({ METRICS_TOKEN: "fedcba9876543210" }).metricsToken,
    "fedcba9876543210",
  );
  assert.throws(
    () => loadConfig({ METRICS_TOKEN: "short" }),
    /METRICS_TOKEN must be at least 16/,
  );
});

Deno.test("loadConfig reads PUSH_SERVICE_HOSTS: the browsers' push services by default, a replacement list, refusals that say what to write", () => {
  assert.deepEqual(loadConfig({}).push.serviceHosts, [
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.push.services.mozilla.com",
    "*.notify.windows.com",
    "web.push.apple.com",
    "*.push.apple.com",
  ]);
  assert.deepEqual(
    loadConfig({
      PUSH_SERVICE_HOSTS: " Push.Example.NET , *.push.example.org,",
    })
      .push.serviceHosts,
    ["push.example.net", "*.push.example.org"],
  );
  assert.deepEqual(
    loadConfig({ PUSH_SERVICE_HOSTS: "  " }).push.serviceHosts.length,
    6,
  );
  for (
    const bad of [
      "https://fcm.googleapis.com",
      "fcm.googleapis.com:443",
      "fcm.googleapis.com/fcm",
      "*",
      "*.com",
      "push.*.example.com",
      "**.example.com",
      "bad_host.example.com",
      "-x.example.com",
    ]
  ) {
    assert.throws(
      () => loadConfig({ PUSH_SERVICE_HOSTS: `fcm.googleapis.com,${bad}` }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /^PUSH_SERVICE_HOSTS must list host names/);
        assert.ok(e.message.includes(`"${bad}"`), e.message);
        return true;
      },
      bad,
    );
  }
  assert.throws(
    () => loadConfig({ PUSH_SERVICE_HOSTS: " , ," }),
    /PUSH_SERVICE_HOSTS must list at least one host.*unset it/,
  );
});

Deno.test("DRAIN_MS: 1500 by default, 0 turns the drain off, other values must be whole milliseconds", () => {
  assert.equal(loadConfig({}).drainMs, 1_500);
  assert.equal(loadConfig({ DRAIN_MS: "0" }).drainMs, 0);
  assert.equal(loadConfig({ DRAIN_MS: "10000" }).drainMs, 10_000);
  for (const bad of ["-1", "1.5", "soon", "600001"]) {
    assert.throws(
      () => loadConfig({ DRAIN_MS: bad }),
      /^ConfigError: DRAIN_MS/,
    );
  }
});
