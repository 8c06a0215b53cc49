// DATABASE_URL with sslmode=require and sslmode=verify-full, against a local
// TLS-enabled throwaway cluster whose certificate a self-signed CA signed.
import assert from "node:assert/strict";
import postgres from "postgres";
import { startPgCluster } from "../harness/pg_cluster.ts";
import { startServerProcess } from "../harness/server_process.ts";
import { postJson } from "../harness/fixtures.ts";
import { messagesOf, openSse } from "../harness/sse_client.ts";

async function openssl(args: string[], cwd: string) {
  const out = await new Deno.Command("openssl", { args, cwd, stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** A CA, and a server certificate for 127.0.0.1 it signed, readable by the postgres user. */
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
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/san.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "san.ext",
    "-out",
    "server.pem",
  ], dir);
  // Postgres refuses a key others can read, and runs as `postgres` when the
  // tests run as root.
  await Deno.chmod(`${dir}/server.key`, 0o600);
  if (Deno.uid() === 0) {
    const id = await new Deno.Command("id", {
      args: ["-u", "postgres"],
      stdout: "piped",
    })
      .output();
    const uid = Number(new TextDecoder().decode(id.stdout).trim());
    await Deno.chown(`${dir}/server.key`, uid, null);
    await Deno.chown(`${dir}/server.pem`, uid, null);
  }
}

Deno.test("TLS to Postgres: sslmode=require, and verify-full with the CA trusted (and refused without it)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plaza_tls_", dir: "/tmp" });
  await Deno.chmod(dir, 0o755);
  await makeCertificates(dir);
  const cluster = await startPgCluster({
    settings: {
      ssl: true,
      ssl_cert_file: `${dir}/server.pem`,
      ssl_key_file: `${dir}/server.key`,
    },
  });
  try {
    const base = new URL(cluster.url);
    const withMode = (mode: string) => {
      const u = new URL(base);
      u.searchParams.set("sslmode", mode);
      return u.toString();
    };
    // With the CA trusted (DENO_CERT adds it to Deno's root store).
    const server = await startServerProcess({
      DATABASE_URL: withMode("verify-full"),
      DENO_CERT: `${dir}/ca.pem`,
    });
    const sql = postgres(withMode("require"), { onnotice: () => {} });
    try {
      const stream = await openSse(`${server.url}/stream?history=0`);
      const sent = await postJson(server.url, "ada", "over TLS");
      await stream.untilMessages(1);
      assert.deepEqual(messagesOf(stream), [sent]);
      await stream.close();
      // The server's own connections really are encrypted.
      const [row] = await sql`
        select count(*)::int as n from pg_stat_ssl s
        join pg_stat_activity a using (pid)
        where s.ssl and a.datname = ${
        base.pathname.slice(1)
      } and a.pid <> pg_backend_pid()`;
      assert.ok(row.n >= 1, "no TLS connection from the server");
    } finally {
      await sql.end({ timeout: 1 });
      await server.kill();
    }
    // verify-full without the CA must not quietly connect.
    await assert.rejects(
      () => startServerProcess({ DATABASE_URL: withMode("verify-full") }),
      /Cannot start server/,
    );
  } finally {
    await cluster.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
