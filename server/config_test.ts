import assert from "node:assert/strict";
import {
  ConfigError,
  DENO_DEPLOY_VARIABLES,
  inAddressRange,
  loadConfig,
  onDenoDeploy,
  parseIpAddress,
  proxyTrustWarning,
  streamsForMemory,
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

Deno.test("loadConfig reads EMBED_ORIGINS (none by default) and refuses what is no plain origin, a CSP directive smuggled in included", () => {
  assert.deepEqual(loadConfig({}).embedOrigins, []);
  assert.deepEqual(
    loadConfig({
      EMBED_ORIGINS:
        "https://blog.example, http://127.0.0.1:8080,https://*.example.org",
    }).embedOrigins,
    ["https://blog.example", "http://127.0.0.1:8080", "https://*.example.org"],
  );
  for (
    const bad of [
      "blog.example",
      "https://blog.example/embed",
      "https://blog.example;script-src",
      "https://a.example,https://b.example;",
      "ftp://blog.example",
    ]
  ) {
    assert.throws(
      () => loadConfig({ EMBED_ORIGINS: bad }),
      /EMBED_ORIGINS must list/,
      bad,
    );
  }
});

Deno.test("loadConfig reads the abuse limits", () => {
  const defaults = loadConfig({});
  assert.deepEqual(defaults.postLimit, { burst: 5, perSecond: 1 });
  assert.deepEqual(defaults.typingLimit, { burst: 3, perSecond: 0.5 });
  assert.deepEqual(defaults.reportLimit, { burst: 5, perSecond: 5 / 600 });
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
    REPORT_RATE: "off",
    AUTH_FAILURE_RATE: "off",
    STREAMS_PER_ADDRESS: "off",
    MAX_STREAMS: "off",
  });
  assert.equal(off.postLimit, null);
  assert.equal(off.typingLimit, null);
  assert.equal(off.reportLimit, null);
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

Deno.test("on Deno Deploy, loadConfig refuses to fall back to the embedded database, whichever documented variable says Deploy", () => {
  // Build (no DENO_TIMELINE), pre-deploy and run time each set a different
  // subset; any one variable must do.
  for (const name of DENO_DEPLOY_VARIABLES) {
    assert.throws(
      () => loadConfig({ [name]: "x" }),
      /on Deno Deploy Plaza needs DATABASE_URL.*Production and the Development context/,
      name,
    );
    const config = loadConfig({
      [name]: "x",
      DATABASE_URL: "postgres://u@db/plaza",
    });
    assert.equal(config.databaseUrl, "postgres://u@db/plaza");
    assert.equal(config.denoDeploy, true);
  }
  for (
    const name of [
      "DENO_DEPLOY",
      "DENO_DEPLOYMENT_ID",
      "DENO_DEPLOY_BUILD_ID",
      "DENO_TIMELINE",
      "DENO_DEPLOY_ORG_ID",
      "DENO_DEPLOY_ORG_SLUG",
      "DENO_DEPLOY_APP_ID",
      "DENO_DEPLOY_APP_SLUG",
    ]
  ) {
    assert.ok(DENO_DEPLOY_VARIABLES.includes(name), name);
  }
  // The documented values: DENO_DEPLOY=true, an id, a timeline.
  assert.ok(onDenoDeploy({ DENO_DEPLOY: "true" }));
  assert.ok(onDenoDeploy({ DENO_DEPLOY: "1" }));
  assert.ok(onDenoDeploy({ DENO_TIMELINE: "preview/abc" }));
  // Not Deploy: nothing set, empty values, or the deploy CLI's own token.
  assert.equal(onDenoDeploy({}), false);
  assert.equal(onDenoDeploy({ DENO_DEPLOY: " " }), false);
  assert.equal(
    onDenoDeploy({ DENO_DEPLOY_TOKEN: "ddp_x", DENO_DEPLOY_ENDPOINT: "x" }),
    false,
  );
  assert.equal(loadConfig({ DENO_DEPLOY_TOKEN: "ddp_x" }).denoDeploy, false);
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

Deno.test("loadConfig reads TLS for DATABASE_URL: sslmode in the URL, else PGSSLMODE, else off for a local server and verify-full for any other", () => {
  const tls = (env: Record<string, string>) => loadConfig(env).databaseTls;
  assert.equal(loadConfig({}).databaseTls, null);
  // Local: loopback names and addresses, a unix socket, no host at all.
  for (
    const url of [
      "postgres://u@localhost:5432/plaza",
      "postgres://u@127.0.0.1/plaza",
      "postgres://u@[::1]:5432/plaza",
      "postgres://u@%2Fvar%2Frun%2Fpostgresql/plaza",
      "postgres:///plaza",
      "postgres://u@localhost:5432,127.0.0.1:5433/plaza",
    ]
  ) {
    assert.equal(tls({ DATABASE_URL: url })?.mode, "disable", url);
  }
  // Anything else gets TLS, verified, by default.
  for (
    const url of [
      "postgresql://u:p@db.example.com:5432/plaza",
      "postgres://u@10.0.0.5/plaza",
      "postgres://u@postgres/plaza",
      "postgres://u@localhost:5432,db.example.com:5432/plaza",
    ]
  ) {
    assert.equal(tls({ DATABASE_URL: url })?.mode, "verify-full", url);
  }
  assert.deepEqual(
    tls({ DATABASE_URL: "postgres://u:p%40ss@db.example.com:6543/plaza" }),
    { mode: "verify-full", ca: null, hosts: ["db.example.com"] },
  );
  assert.deepEqual(
    tls({ DATABASE_URL: "postgres://u@a.example:1,b.example:2/plaza" })?.hosts,
    ["a.example", "b.example"],
  );
  assert.deepEqual(
    tls({ DATABASE_URL: "postgres:///plaza", PGHOST: "db.internal" }),
    { mode: "verify-full", ca: null, hosts: ["db.internal"] },
  );
  // Every libpq mode, from the URL or PGSSLMODE; the URL wins.
  for (
    const mode of [
      "disable",
      "allow",
      "prefer",
      "require",
      "verify-ca",
      "verify-full",
    ]
  ) {
    assert.equal(
      tls({ DATABASE_URL: `postgres://u@db.example.com/p?sslmode=${mode}` })
        ?.mode,
      mode,
    );
    assert.equal(
      tls({ DATABASE_URL: "postgres://u@127.0.0.1/p", PGSSLMODE: mode })?.mode,
      mode,
    );
  }
  assert.equal(
    tls({
      DATABASE_URL: "postgres://u@db.example.com/p?sslmode=require",
      PGSSLMODE: "disable",
    })?.mode,
    "require",
  );
  assert.throws(
    () => tls({ DATABASE_URL: "postgres://u@db/p?sslmode=on" }),
    /^ConfigError: sslmode in DATABASE_URL must be one of disable, allow, prefer, require, verify-ca, verify-full, got "on"/,
  );
  assert.throws(
    () => tls({ DATABASE_URL: "postgres://u@db/p", PGSSLMODE: "true" }),
    /PGSSLMODE must be one of/,
  );
});

Deno.test("loadConfig reads the CA to trust from sslrootcert or PGSSLROOTCERT, and refuses one it cannot use", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plaza_ca_" });
  try {
    const pem =
      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    await Deno.writeTextFile(`${dir}/ca.pem`, pem);
    await Deno.writeTextFile(`${dir}/not.pem`, "hello");
    const url = "postgres://u@db.example.com/p";
    assert.deepEqual(
      loadConfig({
        DATABASE_URL: `${url}?sslmode=verify-ca&sslrootcert=${dir}/ca.pem`,
      }).databaseTls,
      { mode: "verify-ca", ca: pem, hosts: ["db.example.com"] },
    );
    assert.equal(
      loadConfig({ DATABASE_URL: url, PGSSLROOTCERT: `${dir}/ca.pem` })
        .databaseTls?.ca,
      pem,
    );
    // A root certificate makes a local server's default verify-full too.
    assert.equal(
      loadConfig({
        DATABASE_URL: `postgres://u@127.0.0.1/p?sslrootcert=${dir}/ca.pem`,
      }).databaseTls?.mode,
      "verify-full",
    );
    assert.throws(
      () =>
        loadConfig({ DATABASE_URL: `${url}?sslrootcert=${dir}/missing.pem` }),
      /^ConfigError: sslrootcert in DATABASE_URL names .*missing\.pem, which cannot be read/,
    );
    assert.throws(
      () => loadConfig({ DATABASE_URL: url, PGSSLROOTCERT: `${dir}/not.pem` }),
      /PGSSLROOTCERT names .*not\.pem, which holds no PEM certificate/,
    );
    // libpq 16's sslrootcert=system: Deno's own store, verify-full only.
    assert.deepEqual(
      loadConfig({ DATABASE_URL: `${url}?sslrootcert=system` }).databaseTls,
      { mode: "verify-full", ca: null, hosts: ["db.example.com"] },
    );
    assert.throws(
      () =>
        loadConfig({
          DATABASE_URL: `${url}?sslrootcert=system&sslmode=require`,
        }),
      /sslrootcert in DATABASE_URL=system needs sslmode=verify-full/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig reads DATABASE_POOL_MAX: 5 by default, a whole number from 1", () => {
  assert.equal(loadConfig({}).databasePoolMax, 5);
  assert.equal(loadConfig({ DATABASE_POOL_MAX: "2" }).databasePoolMax, 2);
  assert.throws(
    () => loadConfig({ DATABASE_POOL_MAX: "0" }),
    /^ConfigError: DATABASE_POOL_MAX must be a whole number from 1 to 1000/,
  );
  assert.throws(() => loadConfig({ DATABASE_POOL_MAX: "many" }), /POOL_MAX/);
});

const MiB = 1024 * 1024;

Deno.test("streamsForMemory: a quarter kept free, the instance's own base, 65 KB per stream; less with the embedded database", () => {
  // Deno Deploy's default 768 MB: (576 - 96) MiB / 65 KiB.
  assert.equal(streamsForMemory(768 * MiB, false), 7561);
  assert.equal(
    streamsForMemory(768 * MiB, false),
    Math.floor((768 * 0.75 - 96) * 1024 / 65),
  );
  // What the streams use, with the base, stays within three quarters.
  assert.ok(7561 * 65 * 1024 + 96 * MiB <= 0.75 * 768 * MiB);
  assert.equal(streamsForMemory(4096 * MiB, false), 46_883);
  assert.equal(streamsForMemory(512 * MiB, false), 4537);
  // PGlite's half a gigabyte comes off the top.
  assert.equal(streamsForMemory(1024 * MiB, true), 1512);
  // Too little memory for any: one stream, not zero or negative.
  assert.equal(streamsForMemory(64 * MiB, false), 1);
  assert.equal(streamsForMemory(768 * MiB, true), 1);
  for (let mb = 128; mb < 8192; mb *= 2) {
    assert.ok(
      streamsForMemory(2 * mb * MiB, false) > streamsForMemory(mb * MiB, false),
    );
  }
});

Deno.test("MAX_STREAMS defaults to what the memory limit holds: 768 MB on Deno Deploy, MEMORY_LIMIT_MB when set, else the measured limit", () => {
  const url = { DATABASE_URL: "postgres://u@127.0.0.1/p" };
  const deploy = loadConfig({ ...url, DENO_DEPLOY: "true" });
  assert.equal(deploy.memoryLimitMb, 768);
  assert.equal(deploy.maxStreams, 7561);
  // The operator raised the app's limit to 2 GB (and says so).
  const raised = loadConfig({
    ...url,
    DENO_DEPLOY: "true",
    MEMORY_LIMIT_MB: "2048",
  });
  assert.equal(raised.memoryLimitMb, 2048);
  assert.equal(raised.maxStreams, streamsForMemory(2048 * MiB, false));
  // Elsewhere: what the caller measured (cgroup limit or total memory).
  const measured = loadConfig(url, { memoryBytes: 1024 * MiB + 5 });
  assert.equal(measured.memoryLimitMb, 1024);
  assert.equal(measured.maxStreams, streamsForMemory(1024 * MiB, false));
  assert.equal(
    loadConfig({ ...url, MEMORY_LIMIT_MB: "512" }, { memoryBytes: 1e12 })
      .maxStreams,
    4537,
  );
  // The embedded database's share counts.
  assert.equal(
    loadConfig({}, { memoryBytes: 1024 * MiB }).maxStreams,
    1512,
  );
  // MAX_STREAMS wins; nothing known keeps the old 20,000.
  assert.equal(
    loadConfig({ ...url, DENO_DEPLOY: "true", MAX_STREAMS: "100" }).maxStreams,
    100,
  );
  assert.equal(loadConfig({}).memoryLimitMb, null);
  assert.equal(loadConfig({}).maxStreams, 20_000);
  assert.equal(loadConfig({}, { memoryBytes: null }).maxStreams, 20_000);
  assert.throws(
    () => loadConfig({ MEMORY_LIMIT_MB: "32" }),
    /^ConfigError: MEMORY_LIMIT_MB must be a whole number from 64 to 1048576/,
  );
  assert.throws(() => loadConfig({ MEMORY_LIMIT_MB: "1GB" }), /MEMORY_LIMIT/);
});

Deno.test("automatic slow mode: on by default at 30/10s, 5 s, held 5 min, checked every 5 s; tunable; off", () => {
  assert.deepEqual(loadConfig({}).slowModeAuto, {
    messages: 30,
    windowSeconds: 10,
    seconds: 5,
    holdMs: 300_000,
    checkMs: 5_000,
  });
  assert.deepEqual(
    loadConfig({
      SLOW_MODE_AUTO: "on",
      SLOW_MODE_AUTO_RATE: "100/1m",
      SLOW_MODE_AUTO_SECONDS: "20",
      SLOW_MODE_AUTO_HOLD_MS: "60000",
      SLOW_MODE_CHECK_MS: "1000",
    }).slowModeAuto,
    {
      messages: 100,
      windowSeconds: 60,
      seconds: 20,
      holdMs: 60_000,
      checkMs: 1_000,
    },
  );
  assert.equal(loadConfig({ SLOW_MODE_AUTO: "off" }).slowModeAuto, null);
  assert.throws(
    () => loadConfig({ SLOW_MODE_AUTO_RATE: "lots" }),
    /^ConfigError: SLOW_MODE_AUTO_RATE must look like 30\/10s/,
  );
  assert.throws(
    () => loadConfig({ SLOW_MODE_AUTO_RATE: "0/10s" }),
    ConfigError,
  );
  assert.throws(
    () => loadConfig({ SLOW_MODE_AUTO: "maybe" }),
    /SLOW_MODE_AUTO/,
  );
  assert.throws(
    () => loadConfig({ SLOW_MODE_AUTO_SECONDS: "0" }),
    /SLOW_MODE_AUTO_SECONDS must be a whole number from 1 to 3600/,
  );
});

Deno.test("NEWCOMER_DELAY_MINUTES: off (0) by default, a whole number of minutes otherwise", () => {
  assert.equal(loadConfig({}).newcomerDelayMinutes, 0);
  assert.equal(
    loadConfig({ NEWCOMER_DELAY_MINUTES: "30" }).newcomerDelayMinutes,
    30,
  );
  for (const bad of ["-1", "1.5", "soon", "600000"]) {
    assert.throws(
      () => loadConfig({ NEWCOMER_DELAY_MINUTES: bad }),
      (e: unknown) =>
        e instanceof ConfigError && /NEWCOMER_DELAY_MINUTES/.test(e.message),
      bad,
    );
  }
});

Deno.test("RETENTION_DAYS is off by default and a whole number of days", () => {
  assert.equal(loadConfig({}).retentionDays, 0);
  assert.equal(loadConfig({ RETENTION_DAYS: "30" }).retentionDays, 30);
  for (const bad of ["-1", "1.5", "a month", "36501"]) {
    assert.throws(
      () => loadConfig({ RETENTION_DAYS: bad }),
      /RETENTION_DAYS must be a whole number/,
    );
  }
});
