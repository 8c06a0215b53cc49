// TLS towards Postgres: every sslmode against a local TLS-enabled throwaway
// cluster whose certificate a self-signed CA signed, the CA given the usual
// ways (NODE_EXTRA_CA_CERTS, sslrootcert, PGSSLROOTCERT), and sslmode=require
// against the suite's own server, which has no TLS.
import assert from "node:assert/strict";
import postgres from "postgres";
import { startPgCluster } from "../harness/pg_cluster.ts";
import { startServerProcess } from "../harness/server_process.ts";
import { postJson, withTestDatabase } from "../harness/fixtures.ts";
import { messagesOf, openSse } from "../harness/sse_client.ts";
import { runMigrateCommand } from "../../server/migrate_command.ts";
import { loadConfig } from "../../server/config.ts";
import { openDatabase } from "../../db/open_database.ts";

async function openssl(args: string[], cwd: string) {
  const out = await new Deno.Command("openssl", { args, cwd, stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** A certificate named `name` for `altNames`, signed by the CA in dir, readable by the postgres user. */
async function serverCertificate(dir: string, name: string, altNames: string) {
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
  ], dir);
  await Deno.writeTextFile(
    `${dir}/${name}.ext`,
    `subjectAltName=${altNames}\n`,
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  ], dir);
  // Postgres refuses a key others can read, and runs as `postgres` when the
  // tests run as root.
  await Deno.chmod(`${dir}/${name}.key`, 0o600);
  if (Deno.uid() === 0) {
    const id = await new Deno.Command("id", {
      args: ["-u", "postgres"],
      stdout: "piped",
    }).output();
    const uid = Number(new TextDecoder().decode(id.stdout).trim());
    await Deno.chown(`${dir}/${name}.key`, uid, null);
    await Deno.chown(`${dir}/${name}.pem`, uid, null);
  }
}

/** A CA; a certificate for the address 127.0.0.1 only; one for the name localhost only. */
async function makeCertificates(dir: string) {
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=Plaza test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  ], dir);
  await serverCertificate(dir, "ip", "IP:127.0.0.1");
  await serverCertificate(dir, "name", "DNS:localhost");
}

function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

/** runMigrateCommand's exit code and what it wrote to stderr. */
async function migrateWith(
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  const lines: string[] = [];
  const { error, log } = console;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  console.log = () => {};
  try {
    return { code: await runMigrateCommand(env), stderr: lines.join("\n") };
  } finally {
    console.error = error;
    console.log = log;
  }
}

/** Whether Plaza's own connection for `env` is encrypted, from the server's side. */
async function connectsWithTls(env: Record<string, string>): Promise<boolean> {
  const db = await openDatabase(loadConfig(env));
  try {
    const [row] = await db.query<{ ssl: boolean }>(
      "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
    );
    return row.ssl;
  } finally {
    await db.close();
  }
}

Deno.test("TLS to Postgres: verify-full with the CA from NODE_EXTRA_CA_CERTS, sslrootcert or PGSSLROOTCERT; refused without it or when the names differ; the weaker modes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plaza_tls_", dir: "/tmp" });
  await Deno.chmod(dir, 0o755);
  await makeCertificates(dir);
  const ca = `${dir}/ca.pem`;
  const cluster = await startPgCluster({
    settings: {
      ssl: true,
      ssl_cert_file: `${dir}/ip.pem`,
      ssl_key_file: `${dir}/ip.key`,
    },
  });
  const admin = postgres(withParams(cluster.url, { sslmode: "require" }), {
    max: 1,
    onnotice: () => {},
  });
  try {
    const url = cluster.url;
    // The server process, with the CA in NODE_EXTRA_CA_CERTS (how Deno
    // takes extra roots; Deploy puts a linked database's CA in the store).
    const server = await startServerProcess({
      DATABASE_URL: withParams(url, { sslmode: "verify-full" }),
      NODE_EXTRA_CA_CERTS: ca,
    });
    try {
      const stream = await openSse(`${server.url}/stream?history=0`);
      const sent = await postJson(server.url, "ada", "over TLS");
      await stream.untilMessages(1);
      assert.deepEqual(messagesOf(stream), [sent]);
      await stream.close();
      // Every connection the server holds (pool and LISTEN) is encrypted.
      const rows = await admin<{ ssl: boolean }[]>`
        select s.ssl from pg_stat_ssl s join pg_stat_activity a using (pid)
        where a.datname = 'postgres' and a.pid <> pg_backend_pid()
          and a.backend_type = 'client backend'`;
      assert.ok(rows.length >= 2, `${rows.length} connections`);
      assert.ok(rows.every((r) => r.ssl), JSON.stringify(rows));
    } finally {
      await server.kill();
    }
    // The CA as a file: in the URL, or in PGSSLROOTCERT with PGSSLMODE.
    assert.deepEqual(
      await migrateWith({
        DATABASE_URL: withParams(url, {
          sslmode: "verify-full",
          sslrootcert: ca,
        }),
      }),
      { code: 0, stderr: "" },
    );
    assert.deepEqual(
      await migrateWith({
        DATABASE_URL: url,
        PGSSLMODE: "verify-full",
        PGSSLROOTCERT: ca,
      }),
      { code: 0, stderr: "" },
    );
    // Without the CA, verify-full must not quietly connect: the server
    // stops with a line that says what to do, and so does the migration.
    await assert.rejects(
      () =>
        startServerProcess({
          DATABASE_URL: withParams(url, { sslmode: "verify-full" }),
        }),
      /Cannot start server: could not prepare the database at DATABASE_URL \(.*certificate.*trust its CA with sslrootcert/,
    );
    const refused = await migrateWith({
      DATABASE_URL: withParams(url, { sslmode: "verify-ca" }),
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^Cannot migrate: .*sslmode=verify-ca checks/);

    // The modes that do not verify, and disable, which stays plain even
    // though the server offers TLS.
    assert.equal(await connectsWithTls({ DATABASE_URL: url }), false);
    for (const mode of ["allow", "prefer", "require"]) {
      assert.equal(
        await connectsWithTls({
          DATABASE_URL: withParams(url, { sslmode: mode }),
        }),
        true,
        mode,
      );
    }
    assert.equal(
      await connectsWithTls({ DATABASE_URL: url, PGSSLMODE: "disable" }),
      false,
    );

    // A certificate for the name localhost but not the address 127.0.0.1:
    // verify-full by address is refused (libpq's rule; postgres.js alone
    // checks an address against "localhost"), by name accepted, and
    // verify-ca checks only the chain.
    // ALTER SYSTEM takes no parameters; the temp path has no quotes.
    await admin.unsafe(`alter system set ssl_cert_file = '${dir}/name.pem'`);
    await admin.unsafe(`alter system set ssl_key_file = '${dir}/name.key'`);
    await admin`select pg_reload_conf()`;
    // The postmaster rereads the files on its own time; a new session shows
    // the setting once it has.
    for (;;) {
      const probe = postgres(withParams(url, { sslmode: "require" }), {
        max: 1,
        onnotice: () => {},
      });
      const [row] = await probe`show ssl_cert_file`.finally(() =>
        probe.end({ timeout: 1 })
      );
      if (row.ssl_cert_file === `${dir}/name.pem`) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const byAddress = await migrateWith({
      DATABASE_URL: withParams(url, {
        sslmode: "verify-full",
        sslrootcert: ca,
      }),
    });
    assert.equal(byAddress.code, 1);
    assert.match(byAddress.stderr, /127\.0\.0\.1|altnames/);
    const byName = new URL(url);
    byName.hostname = "localhost";
    assert.equal(
      await connectsWithTls({
        DATABASE_URL: withParams(byName.toString(), {
          sslmode: "verify-full",
          sslrootcert: ca,
        }),
      }),
      true,
    );
    assert.equal(
      await connectsWithTls({
        DATABASE_URL: withParams(url, {
          sslmode: "verify-ca",
          sslrootcert: ca,
        }),
      }),
      true,
    );
  } finally {
    await admin.end({ timeout: 1 });
    await cluster.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TLS to Postgres: sslmode=require against a server without TLS is refused with a line saying so; prefer and allow connect in plain", async () => {
  await withTestDatabase(async (url) => {
    await assert.rejects(
      () =>
        startServerProcess({
          DATABASE_URL: withParams(url, { sslmode: "require" }),
        }),
      /Cannot start server: could not prepare the database at DATABASE_URL \(SSL_NOT_SUPPORTED: the server at 127\.0\.0\.1:\d+ does not accept TLS connections, but sslmode=require requires TLS \(sslmode=disable/,
    );
    for (
      const env of [
        { DATABASE_URL: withParams(url, { sslmode: "require" }) } as Record<
          string,
          string
        >,
        { DATABASE_URL: url, PGSSLMODE: "verify-full" },
      ]
    ) {
      const out = await migrateWith(env);
      assert.equal(out.code, 1);
      assert.match(
        out.stderr,
        /^Cannot migrate: SSL_NOT_SUPPORTED: the server at 127\.0\.0\.1:\d+ does not accept TLS connections/,
      );
    }
    for (const mode of ["allow", "prefer", "disable"]) {
      assert.equal(
        await connectsWithTls({
          DATABASE_URL: withParams(url, { sslmode: mode }),
        }),
        false,
        mode,
      );
    }
  });
});
