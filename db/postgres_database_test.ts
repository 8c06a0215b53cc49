// The postgres.js adapter when connections die under it, as they do when
// the database restarts. Before vendor/postgres was patched (its README says
// how), these cases ended the whole process or broke the pooled connection.
import assert from "node:assert/strict";
import net from "node:net";
import type { PeerCertificate } from "node:tls";
import postgres from "postgres";
import {
  createPostgresDatabase,
  explainTlsFailure,
  postgresSsl,
  type PostgresTls,
  withoutTlsParams,
} from "./postgres_database.ts";
import { isUnavailableError } from "./database.ts";
import { withTestDatabase } from "../test/harness/fixtures.ts";
import { startTcpProxy, type TcpProxy } from "../test/harness/tcp_proxy.ts";
import { until } from "../test/harness/wait.ts";

/** Runs `fn` with a database reached through a proxy that can cut connections. */
async function withProxiedDatabase(
  fn: (via: { url: string; proxy: TcpProxy; direct: postgres.Sql }) => Promise<
    void
  >,
): Promise<void> {
  await withTestDatabase(async (url) => {
    const proxy = startTcpProxy(Number(new URL(url).port));
    const viaProxy = new URL(url);
    viaProxy.port = String(proxy.port);
    const direct = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await fn({ url: viaProxy.toString(), proxy, direct });
    } finally {
      await direct.end({ timeout: 1 });
      await proxy.close();
    }
  });
}

/** How postgres.js reports a connection lost under a query. */
const DROPPED = /CONNECTION_CLOSED|ECONNRESET|terminat/;

/** Waits until the server is running `text` for some client; fails after 10 s. */
function untilRunning(sql: postgres.Sql, text: string): Promise<void> {
  // pg_stat_activity cannot be waited on; poll it briefly.
  return until(async () => {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where query = ${text} and state = 'active'`;
    return row.n > 0;
  }, { intervalMs: 10, what: `the server to run ${JSON.stringify(text)}` });
}

Deno.test("a connection that drops inside a transaction fails the transaction, not the process, and the next query reconnects", async () => {
  await withProxiedDatabase(async ({ url, proxy, direct }) => {
    const db = createPostgresDatabase(url, { max: 1 });
    try {
      const sleep = "select pg_sleep(30) /* dropped */";
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("select 1");
          const running = tx.query(sleep);
          await untilRunning(direct, sleep);
          // A server going away: FIN while the statement runs. postgres.js
          // then sends ROLLBACK on the dead connection, which used to throw
          // from a setImmediate callback, out of every caller's reach.
          proxy.cut();
          await running;
        }),
        DROPPED,
      );
      const [after] = await db.query<{ n: number }>("select 2 as n");
      assert.equal(after.n, 2);
      const [inTx] = await db.transaction((tx) =>
        tx.query<{ n: number }>("select 3 as n")
      );
      assert.equal(inTx.n, 3);
    } finally {
      await db.close();
    }
  });
});

Deno.test("a transaction whose backend is terminated fails, and the connection it used still works afterwards", async () => {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url, { max: 1 });
    const direct = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const sleep = "select pg_sleep(30) /* terminated */";
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("select 1");
          const running = tx.query(sleep);
          // Pipelined behind the sleep, so it sits unread in the server's
          // socket when the backend exits: the close arrives as a reset.
          const queued = tx.query("select 2");
          await untilRunning(direct, sleep);
          // What a restart or an operator does to a session: FATAL, then
          // the reset, and no ReadyForQuery. postgres.js kept that FATAL
          // and failed the first query of the next session with it.
          await direct`
            select pg_terminate_backend(pid) from pg_stat_activity
            where query = ${sleep}`;
          await Promise.all([running, queued]);
        }),
        DROPPED,
      );
      const [after] = await db.query<{ n: number }>("select 3 as n");
      assert.equal(after.n, 3);
    } finally {
      await direct.end({ timeout: 1 });
      await db.close();
    }
  });
});

/**
 * A proxy to `targetPort` that resets (RST, not FIN) the first connection
 * whose client sends `text`, as a crashing server or a dropped route does;
 * later connections pass. node:net, because Deno.Conn cannot send a reset.
 */
async function startResettingProxy(targetPort: number, text: string) {
  let armed = true;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("error", () => {}).on("close", () => open.delete(s));
    }
    client.on("data", (data) => {
      if (armed && data.toString("latin1").includes(text)) {
        armed = false;
        client.resetAndDestroy();
        upstream.destroy();
      } else upstream.write(data);
    });
    upstream.on("data", (data) => client.write(data));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

Deno.test("a connection reset while it reads the server's types fails its query, not the process", async () => {
  await withTestDatabase(async (url) => {
    // postgres.js reads the array types on every new connection, before the
    // first query. A reset then (the database going down while instances
    // reconnect) left that read's rejection unhandled: CI saw this.
    const proxy = await startResettingProxy(
      Number(new URL(url).port),
      "pg_catalog.pg_type",
    );
    const viaProxy = new URL(url);
    viaProxy.port = String(proxy.port);
    const db = createPostgresDatabase(viaProxy.toString(), { max: 1 });
    try {
      await assert.rejects(db.query("select 1"), DROPPED);
      const [row] = await db.query<{ n: number }>("select 2 as n");
      assert.equal(row.n, 2);
    } finally {
      await db.close();
      await proxy.close();
    }
  });
});

Deno.test("sslmode maps onto postgres.js's ssl option: plain, TLS unverified, or verified against the CA and the URL's hosts", () => {
  const tls = (mode: PostgresTls["mode"], ca: string | null = null) => ({
    mode,
    ca,
    hosts: ["127.0.0.1"],
  });
  assert.equal(postgresSsl(null), false);
  assert.equal(postgresSsl(tls("disable")), false);
  assert.equal(postgresSsl(tls("allow")), "prefer");
  assert.equal(postgresSsl(tls("prefer")), "prefer");
  assert.equal(postgresSsl(tls("require")), "require");
  // What Node's checkServerIdentity reads of a certificate.
  const cert = (names: string) =>
    ({ subject: {}, subjectaltname: names }) as unknown as PeerCertificate;
  const full = postgresSsl(tls("verify-full", "PEM"));
  assert.ok(typeof full === "object" && full !== null);
  assert.equal(full.rejectUnauthorized, true);
  assert.equal(full.ca, "PEM");
  // The name postgres.js hands over for an IP host is "localhost": the check
  // must be against the URL's host instead.
  assert.equal(
    full.checkServerIdentity("localhost", cert("IP Address:127.0.0.1")),
    undefined,
  );
  assert.ok(
    full.checkServerIdentity("localhost", cert("DNS:localhost")) instanceof
      Error,
  );
  const ca = postgresSsl(tls("verify-ca"));
  assert.ok(typeof ca === "object" && ca !== null);
  assert.equal("ca" in ca, false, "no CA given: Deno's own store");
  assert.equal(
    ca.checkServerIdentity("localhost", cert("DNS:elsewhere.example")),
    undefined,
  );
  // libpq: require with a root certificate checks the chain (verify-ca).
  const required = postgresSsl(tls("require", "PEM"));
  assert.ok(typeof required === "object" && required !== null);
  assert.equal(required.ca, "PEM");
});

Deno.test("the libpq TLS parameters are taken out of the URL postgres.js gets (it would send them to the server as settings)", () => {
  assert.equal(
    withoutTlsParams("postgres://u@h/db?sslmode=require&sslrootcert=/ca.pem"),
    "postgres://u@h/db",
  );
  assert.equal(
    withoutTlsParams("postgres://u@h/db?sslmode=require&application_name=x"),
    "postgres://u@h/db?application_name=x",
  );
  assert.equal(withoutTlsParams("postgres://u@h/db"), "postgres://u@h/db");
});

Deno.test("a TLS failure says what to change and counts as the database being unavailable", () => {
  const refused = Object.assign(new Error("SSL_NOT_SUPPORTED: no TLS"), {
    code: "SSL_NOT_SUPPORTED",
  });
  assert.equal(explainTlsFailure(refused, "require"), refused);
  assert.match(refused.message, /no TLS \(sslmode=disable.*private network\)$/);
  const unknown = Object.assign(new Error("unable to verify"), {
    code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  });
  explainTlsFailure(unknown, "verify-full");
  explainTlsFailure(unknown, "verify-full");
  assert.equal(
    unknown.message,
    "unable to verify (sslmode=verify-full checks the server's certificate: trust its CA with sslrootcert=/path/ca.pem in DATABASE_URL, PGSSLROOTCERT or NODE_EXTRA_CA_CERTS, or set sslmode=require to encrypt without checking)",
  );
  const other = Object.assign(new Error("syntax"), { code: "42601" });
  explainTlsFailure(other, "verify-full");
  assert.equal(other.message, "syntax");
  assert.ok(isUnavailableError(refused));
  assert.ok(isUnavailableError(unknown));
  assert.equal(isUnavailableError(other), false);
});

Deno.test("a query asked to be prepared stays prepared on its connection and keeps answering; others are sent unnamed", async () => {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url, { max: 1 });
    try {
      const prepared = "select $1::int + 1 as n";
      const unnamed = "select $1::int + 2 as n";
      const inCache = async (text: string) =>
        (await db.query<{ n: number }>(
          "select count(*)::int as n from pg_prepared_statements where statement = $1",
          [text],
        ))[0].n;
      assert.deepEqual([...await db.query(prepared, [1], { prepare: true })], [
        { n: 2 },
      ]);
      assert.deepEqual([...await db.query(prepared, [2], { prepare: true })], [
        { n: 3 },
      ]);
      assert.deepEqual([...await db.query(unnamed, [1])], [{ n: 3 }]);
      assert.equal(await inCache(prepared), 1, "prepared once, then reused");
      assert.equal(await inCache(unnamed), 0);
    } finally {
      await db.close();
    }
  });
});
