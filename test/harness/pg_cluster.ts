/**
 * Throwaway PostgreSQL clusters and databases for tests.
 *
 * `deno task test` (tools/run_tests.ts) starts one cluster for the whole run and
 * hands its URL to the tests in TEST_DATABASE_URL; each test file then takes a
 * fresh database from it with `createTestDatabase`. Tests that need to take
 * the database down (outage tests) start a cluster of their own.
 */

import { dirname, join } from "node:path";
import postgres from "postgres";
import { DeadlineError, until } from "./wait.ts";

/** A running (or stopped, between stopServer and startServer) test cluster. */
export interface PgCluster {
  /** Connection URL of the cluster's `postgres` database, superuser, no password. */
  url: string;
  /** TCP port on 127.0.0.1; kept across stopServer/startServer. */
  port: number;
  /** The cluster's data directory (PGDATA). */
  dataDir: string;
  /** Major version of the server, e.g. "15". */
  version: string;
  /** Directory the PostgreSQL binaries were taken from. */
  binDir: string;
  /** Stops the server, keeping the data dir and port, to simulate an outage. */
  stopServer(mode?: PgStopMode): Promise<void>;
  /** Starts the server again on the same data dir and port. */
  startServer(): Promise<void>;
  /** stopServer then startServer. */
  restart(mode?: PgStopMode): Promise<void>;
  /** Stops the server (if running) and removes every file of the cluster. */
  stop(): Promise<void>;
}

/** pg_ctl shutdown modes: "immediate" is the closest to a crash. */
export type PgStopMode = "smart" | "fast" | "immediate";

/** Options of startPgCluster. */
export interface PgClusterOptions {
  /** How long to wait for the server to accept connections; default 20 000. */
  startTimeoutMs?: number;
  /** Extra postgresql.conf settings, e.g. `{ log_statement: "all" }`. */
  settings?: Record<string, string | number | boolean>;
}

const MISSING_BINARIES =
  "Cannot start test database: PostgreSQL binaries (initdb) not found on PATH or in /usr/lib/postgresql/*/bin. Install them with `apt-get install -y postgresql`, or set TEST_DATABASE_URL.";

const PG_USER = "postgres";

/** Path of a PostgreSQL binary (PATH first, then the newest /usr/lib/postgresql/N/bin), or null. */
export function findPgBin(name: string): string | null {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
  dirs.push(...debianBinDirs());
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/** Starts a throwaway PostgreSQL server on 127.0.0.1 and a free port, in a temp dir. */
export async function startPgCluster(
  options: PgClusterOptions = {},
): Promise<PgCluster> {
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const binDir = findBinDir();
  const runAs = Deno.uid() === 0 ? systemUser(PG_USER) : null;

  // Under /tmp rather than $TMPDIR when root: the postgres user must be able to
  // reach the dir, and unix socket paths must stay short (about 100 bytes).
  const baseDir = await Deno.makeTempDir({
    dir: runAs ? "/tmp" : undefined,
    prefix: "plaza-pg-",
  });
  const dataDir = join(baseDir, "data");
  const logFile = join(baseDir, "postgres.log");
  const run = (cmd: string, args: string[]) =>
    runPg(join(binDir, cmd), args, baseDir, runAs);

  let running = false;
  let removed = false;
  let port = 0;

  const startServer = async (): Promise<void> => {
    if (removed) throw new Error("startServer: the cluster was removed");
    if (running) return;
    const out = await run("pg_ctl", [
      "start",
      "-D",
      dataDir,
      "-l",
      logFile,
      "-w",
      "-t",
      String(Math.ceil(timeoutMs / 1000)),
      // The port goes on the command line, not in postgresql.conf, so a port
      // lost to another process between probing and binding can be swapped.
      "-o",
      `-p ${port}`,
    ]);
    if (!out.ok) {
      // pg_ctl -w may have given up while the postmaster still starts; make
      // sure nothing is left behind before reporting.
      await run("pg_ctl", ["stop", "-D", dataDir, "-m", "immediate", "-w"]);
      const log = await logTail(logFile);
      throw new PgStartError(
        `Cannot start test database: PostgreSQL failed to start on 127.0.0.1:${port} (waited up to ${
          Math.ceil(timeoutMs / 1000)
        } s).\n${out.text}\nLog tail:\n${log}`,
        log,
      );
    }
    running = true;
    // pg_ctl -w trusts postmaster.pid; check the TCP listener itself too.
    await waitForTcp(port, timeoutMs, logFile);
  };

  const stopServer = async (mode: PgStopMode = "fast"): Promise<void> => {
    if (!running) return;
    const out = await run("pg_ctl", ["stop", "-D", dataDir, "-m", mode, "-w"]);
    running = false;
    if (!out.ok) {
      throw new Error(
        `Cannot stop test database on port ${port}:\n${out.text}\nLog tail:\n${await logTail(
          logFile,
        )}`,
      );
    }
  };

  const stop = async (): Promise<void> => {
    if (removed) return;
    try {
      await stopServer("fast");
    } finally {
      removed = true;
      await Deno.remove(baseDir, { recursive: true });
    }
  };

  try {
    if (runAs) {
      await Deno.chmod(baseDir, 0o755);
      await Deno.chown(baseDir, runAs.uid, runAs.gid);
    }
    await initdb(run, dataDir);
    await Deno.writeTextFile(
      join(dataDir, "postgresql.conf"),
      serverSettings(baseDir, options.settings),
      { append: true },
    );
    const version = (await Deno.readTextFile(join(dataDir, "PG_VERSION")))
      .trim();

    for (let attempt = 1;; attempt++) {
      port = freePort();
      try {
        await startServer();
        break;
      } catch (err) {
        const lostPort = err instanceof PgStartError &&
          /could not bind|address already in use/i.test(err.log);
        if (!lostPort || attempt >= 3) throw err;
      }
    }

    return {
      url: `postgres://${PG_USER}@127.0.0.1:${port}/postgres`,
      port,
      dataDir,
      version,
      binDir,
      stopServer,
      startServer,
      restart: async (mode) => {
        await stopServer(mode);
        await startServer();
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** Creates a fresh, uniquely named database on the server at baseUrl; drop() removes it. */
export async function createTestDatabase(
  baseUrl: string,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `plaza_test_${crypto.randomUUID().replaceAll("-", "")}`;
  await withAdmin(baseUrl, (sql) => sql`create database ${sql(name)}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      // FORCE: a test that leaked a connection must not leak the database too.
      await withAdmin(
        baseUrl,
        (sql) => sql`drop database if exists ${sql(name)} with (force)`,
      );
    },
  };
}

/** The database server URL tests should use; throws when tests were not started by `deno task test`. */
export function testDatabaseUrl(): string {
  const url = Deno.env.get("TEST_DATABASE_URL") ?? Deno.env.get("DATABASE_URL");
  if (!url) {
    throw new Error(
      "No test database: run the tests with `deno task test` (it starts a throwaway PostgreSQL), or set TEST_DATABASE_URL.",
    );
  }
  return url;
}

class PgStartError extends Error {
  constructor(message: string, readonly log: string) {
    super(message);
  }
}

interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

interface RunResult {
  ok: boolean;
  /** stdout and stderr together, trimmed, for error messages. */
  text: string;
}

function debianBinDirs(): string[] {
  const root = "/usr/lib/postgresql";
  let versions: string[];
  try {
    versions = [...Deno.readDirSync(root)]
      .filter((e) => e.isDirectory || e.isSymlink)
      .map((e) => e.name);
  } catch {
    return [];
  }
  // Numeric order, newest first: "16" > "9.6" > "15" lexically, not numerically.
  const key = (v: string) => v.split(".").map((n) => Number(n) || 0);
  versions.sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
      const d = (kb[i] ?? 0) - (ka[i] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  });
  return versions.map((v) => join(root, v, "bin"));
}

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/** The directory holding initdb, pg_ctl and postgres of one installation. */
function findBinDir(): string {
  const initdbPath = findPgBin("initdb");
  if (!initdbPath) throw new Error(MISSING_BINARIES);
  // PATH may hold only symlinks to some of the binaries (here /usr/local/bin
  // has initdb, pg_ctl and postgres but no pg_isready): use the real dir.
  const real = dirname(Deno.realPathSync(initdbPath));
  for (const dir of [real, dirname(initdbPath)]) {
    if (["pg_ctl", "postgres"].every((b) => isExecutableFile(join(dir, b)))) {
      return dir;
    }
  }
  throw new Error(
    `Cannot start test database: found ${initdbPath} but no pg_ctl and postgres beside it. Install them with \`apt-get install -y postgresql\`, or set TEST_DATABASE_URL.`,
  );
}

function systemUser(name: string): SystemUser {
  let passwd = "";
  try {
    passwd = Deno.readTextFileSync("/etc/passwd");
  } catch {
    // Treated as "no such user" below.
  }
  for (const line of passwd.split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user === name) return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new Error(
    `Cannot start test database: running as root and there is no \`${name}\` system user to run PostgreSQL as (initdb refuses root). Install it with \`apt-get install -y postgresql\`, or set TEST_DATABASE_URL.`,
  );
}

async function runPg(
  bin: string,
  args: string[],
  cwd: string,
  runAs: SystemUser | null,
): Promise<RunResult> {
  const [cmd, fullArgs] = runAs
    ? ["runuser", ["-u", runAs.name, "--", bin, ...args]]
    : [bin, args];
  const out = await new Deno.Command(cmd, {
    args: fullArgs,
    // The caller's cwd may be unreadable for the postgres user (e.g. /root),
    // which makes initdb and pg_ctl print warnings or fail.
    cwd,
    // Locale variables of the caller could make initdb pick a locale that
    // does not exist here; the locale is passed explicitly instead.
    env: { LC_ALL: "C", LANG: "C" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    ok: out.success,
    text: (dec.decode(out.stdout) + dec.decode(out.stderr)).trim(),
  };
}

async function initdb(
  run: (cmd: string, args: string[]) => Promise<RunResult>,
  dataDir: string,
): Promise<void> {
  const base = ["-D", dataDir, "-A", "trust", "-U", PG_USER, "--encoding=UTF8"];
  let out = await run("initdb", [...base, "--locale=C.UTF-8"]);
  if (!out.ok) {
    // C.UTF-8 is missing from some older or minimal systems; plain C with
    // UTF8 encoding behaves the same for our tests.
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    out = await run("initdb", [...base, "--locale=C"]);
  }
  if (!out.ok) {
    throw new Error(`Cannot start test database: initdb failed:\n${out.text}`);
  }
}

function serverSettings(
  socketDir: string,
  extra: Record<string, string | number | boolean> = {},
): string {
  const settings: Record<string, string | number | boolean> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: socketDir,
    max_connections: 200,
    // Skipping fsync is safe for throwaway data and saves seconds per run:
    // data only has to survive a server stop, not a machine crash. Keep
    // synchronous_commit on though: with it off, `stopServer("immediate")`
    // loses the last commits, which outage tests would see as lost messages.
    fsync: false,
    full_page_writes: false,
    ...extra,
  };
  const quote = (v: string | number | boolean) =>
    typeof v === "string" ? `'${v.replaceAll("'", "''")}'` : String(v);
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${quote(v)}`);
  return `\n# Test cluster settings (test/harness/pg_cluster.ts)\n${
    lines.join("\n")
  }\n`;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

async function waitForTcp(
  port: number,
  timeoutMs: number,
  logFile: string,
): Promise<void> {
  let lastError: unknown;
  try {
    await until(async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return true;
      } catch (err) {
        lastError = err;
        return false;
      }
    }, { timeoutMs, intervalMs: 50, what: `a listener on 127.0.0.1:${port}` });
  } catch (error) {
    if (!(error instanceof DeadlineError)) throw error;
    throw new Error(
      `Cannot start test database: nothing listens on 127.0.0.1:${port} after ${
        Math.round(timeoutMs / 1000)
      } s (${lastError}).\nLog tail:\n${await logTail(logFile)}`,
    );
  }
}

async function logTail(path: string, lines = 20): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-lines)
      .join("\n");
  } catch {
    return "(no log)";
  }
}

async function withAdmin(
  url: string,
  fn: (sql: postgres.Sql) => Promise<unknown>,
): Promise<void> {
  // One connection, no notices on stdout ("database does not exist, skipping").
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await fn(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}
