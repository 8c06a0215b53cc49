/**
 * TLS towards DATABASE_URL (sslmode, sslrootcert, PGSSLMODE, PGSSLROOTCERT)
 * in libpq's terms, parsed for loadConfig in ../config.ts, which re-exports
 * what others use; a file of its own so config.ts stays under its size limit.
 */
import { ConfigError, type Env, text } from "../config.ts";

/** libpq's sslmode values, weakest first. */
export const SSL_MODES = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
] as const;

/** How strictly the Postgres connection uses TLS, in libpq's words. */
export type SslMode = typeof SSL_MODES[number];

/** TLS towards DATABASE_URL's server (db/postgres_database.ts maps it onto postgres.js). */
export interface DatabaseTls {
  /** `sslmode` in DATABASE_URL, else `PGSSLMODE`, else disable for a local server and verify-full for any other. */
  mode: SslMode;
  /** PEM of the CAs to trust, read from `sslrootcert` (or `PGSSLROOTCERT`); null = Deno's own store. */
  ca: string | null;
  /** DATABASE_URL's host names, which the server's certificate must match under verify-full. */
  hosts: string[];
}

/** Every host a postgres:// URL names (several when comma-separated), as postgres.js reads them. */
export function databaseHosts(url: string, env: Env): string[] {
  // postgres.js's own parsing (parseUrl): the part between :// and the first
  // / or ?, after the last credential's @.
  let hostPart = url.slice(url.indexOf("://") + 3).split(/[?/]/)[0];
  hostPart = hostPart.slice(hostPart.lastIndexOf("@") + 1);
  try {
    hostPart = decodeURIComponent(hostPart);
  } catch {
    // Left as written; a bad escape fails the connection itself.
  }
  const hosts = hostPart.split(",").map((h) =>
    // [::1]:5432 → ::1; host:5432 → host.
    h.startsWith("[") ? h.slice(1, h.indexOf("]")) : h.split(":")[0]
  ).filter((h) => h !== "");
  // No host in the URL: postgres.js takes PGHOST, then localhost.
  return hosts.length > 0 ? hosts : [text(env, "PGHOST") ?? "localhost"];
}

/** True for a server on this machine: loopback names and addresses, or a unix socket. */
export function isLocalHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h.startsWith("/");
}

/** The value of query parameter `name` in a postgres:// URL, or null. */
function urlParam(url: string, name: string): string | null {
  const q = url.indexOf("?");
  if (q < 0) return null;
  const value = new URLSearchParams(url.slice(q + 1)).get(name)?.trim();
  return value ? value : null;
}

/** The TLS settings for `url`, from its own parameters, else the PG* variables, else by host. */
export function databaseTls(url: string, env: Env): DatabaseTls {
  const hosts = databaseHosts(url, env);
  const fromUrl = urlParam(url, "sslmode");
  const raw = fromUrl ?? text(env, "PGSSLMODE");
  const source = fromUrl !== null ? "sslmode in DATABASE_URL" : "PGSSLMODE";
  const rootFromUrl = urlParam(url, "sslrootcert");
  const rootCert = rootFromUrl ?? text(env, "PGSSLROOTCERT");
  const rootSource = rootFromUrl !== null
    ? "sslrootcert in DATABASE_URL"
    : "PGSSLROOTCERT";
  let mode: SslMode;
  if (raw === null) {
    // Nothing said: TLS, verified, unless the server is on this machine.
    // sslrootcert=system asks for verify-full too (libpq 16 does the same).
    mode = hosts.every(isLocalHost) && rootCert === null
      ? "disable"
      : "verify-full";
  } else {
    const found = SSL_MODES.find((m) => m === raw.toLowerCase());
    if (found === undefined) {
      throw new ConfigError(
        `${source} must be one of ${SSL_MODES.join(", ")}, got "${raw}".`,
      );
    }
    mode = found;
  }
  if (rootCert === null) return { mode, ca: null, hosts };
  if (rootCert === "system") {
    // libpq refuses a weaker mode with the system store: a check that
    // cannot fail would be no check.
    if (mode !== "verify-full") {
      throw new ConfigError(
        `${rootSource}=system needs sslmode=verify-full (or no sslmode), got ${source}=${mode}.`,
      );
    }
    return { mode, ca: null, hosts };
  }
  // Read here, not at connect time: a wrong path stops start-up with one
  // line naming the variable, like any other bad value.
  let ca: string;
  try {
    ca = Deno.readTextFileSync(rootCert);
  } catch (error) {
    throw new ConfigError(
      `${rootSource} names ${rootCert}, which cannot be read (${
        error instanceof Error ? error.message : String(error)
      }).`,
    );
  }
  if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ConfigError(
      `${rootSource} names ${rootCert}, which holds no PEM certificate (-----BEGIN CERTIFICATE-----).`,
    );
  }
  return { mode, ca, hosts };
}
