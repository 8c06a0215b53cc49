import { checkServerIdentity, type PeerCertificate } from "node:tls";
import postgres from "postgres";
import {
  type Database,
  type ListenHandlers,
  type ListenSession,
  type Queryable,
  type QueryOptions,
  TLS_FAILURE_CODES,
} from "./database.ts";

type Sql = postgres.Sql;
type Params = postgres.ParameterOrJSON<never>[];

/** Makes `error`, when it is a TLS failure, say what to change; other errors pass as they are. */
export function explainTlsFailure(
  error: unknown,
  mode: PostgresTls["mode"],
): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (
    !(error instanceof Error) || typeof code !== "string" ||
    !TLS_FAILURE_CODES.includes(code) || error.message.includes(" (sslmode")
  ) {
    return error;
  }
  error.message += code === "SSL_NOT_SUPPORTED"
    ? " (sslmode=disable, in DATABASE_URL or PGSSLMODE, turns TLS off: only for a private network)"
    : ` (sslmode=${mode} checks the server's certificate: trust its CA with sslrootcert=/path/ca.pem in DATABASE_URL, PGSSLROOTCERT or NODE_EXTRA_CA_CERTS, or set sslmode=require to encrypt without checking)`;
  return error;
}

function queryable(
  sql: Sql | postgres.TransactionSql,
  explain: (error: unknown) => unknown = (error) => error,
): Queryable {
  return {
    async query<T>(
      text: string,
      params: unknown[] = [],
      options: QueryOptions = {},
    ): Promise<T[]> {
      try {
        // postgres.js sends unsafe() text unnamed: a parse-and-describe
        // round trip, then the execute, on every call.
        const rows = await sql.unsafe(text, params as Params, {
          prepare: options.prepare === true,
        });
        return rows as unknown as T[];
      } catch (error) {
        throw explain(error);
      }
    },
    async exec(text: string): Promise<void> {
      try {
        // Without parameters postgres.js uses the simple protocol, which
        // accepts several statements.
        await sql.unsafe(text);
      } catch (error) {
        throw explain(error);
      }
    },
  };
}

/** Query connections when the caller names no pool size (server/config.ts's DATABASE_POOL_MAX default matches). */
export const DEFAULT_POOL_MAX = 5;

/** TLS settings in libpq's terms (server/config.ts's DatabaseTls has this shape). */
export interface PostgresTls {
  /** libpq's sslmode. */
  mode:
    | "disable"
    | "allow"
    | "prefer"
    | "require"
    | "verify-ca"
    | "verify-full";
  /** PEM of the CAs to trust; null = Deno's store (Mozilla's roots, DENO_CERT, NODE_EXTRA_CA_CERTS). */
  ca: string | null;
  /** The URL's hosts: the names the certificate must carry under verify-full. */
  hosts: string[];
}

/** Options for connecting to a Postgres server. */
export interface PostgresOptions {
  /** Pool size for queries (default DEFAULT_POOL_MAX); LISTEN uses its own extra connection. */
  max?: number;
  /** TLS; absent = none (tests against a local server). */
  tls?: PostgresTls | null;
}

/** What postgres.js's `ssl` option takes. */
type SslOption = false | "prefer" | "require" | {
  rejectUnauthorized: true;
  ca?: string;
  checkServerIdentity(name: string, cert: PeerCertificate): Error | undefined;
};

/**
 * libpq's sslmode as postgres.js's `ssl` (vendor/postgres/src/connection.js,
 * secure()): false = plain; "prefer" = TLS without verification when the
 * server offers it, else plain; "require" = TLS without verification, and
 * refused when the server has none (vendor patch 5); an object = Node's
 * tls.connect options, verified.
 */
export function postgresSsl(tls: PostgresTls | null | undefined): SslOption {
  if (!tls) return false;
  const ca = tls.ca === null ? {} : { ca: tls.ca };
  switch (tls.mode) {
    case "disable":
      return false;
    // libpq's allow tries plain first, then TLS; postgres.js has no such
    // order, and prefer connects wherever allow would.
    case "allow":
    case "prefer":
      return "prefer";
    case "require":
      // libpq: require with a root certificate given verifies the chain.
      if (tls.ca === null) return "require";
      return {
        rejectUnauthorized: true,
        ...ca,
        checkServerIdentity: () => undefined,
      };
    case "verify-ca":
      return {
        rejectUnauthorized: true,
        ...ca,
        checkServerIdentity: () => undefined,
      };
    case "verify-full":
      return {
        rejectUnauthorized: true,
        ...ca,
        // Our own check against the URL's hosts: postgres.js sends no
        // servername for an IP address, and Node then checks the
        // certificate against "localhost" instead of that address.
        checkServerIdentity(_name, cert) {
          let failure: Error | undefined;
          for (const host of tls.hosts) {
            failure = checkServerIdentity(host, cert);
            if (failure === undefined) return undefined;
          }
          return failure;
        },
      };
  }
}

/** `url` without the libpq TLS parameters, which postgres.js would send to the server as settings. */
export function withoutTlsParams(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  params.delete("sslmode");
  params.delete("sslrootcert");
  const rest = params.toString();
  return url.slice(0, q) + (rest === "" ? "" : `?${rest}`);
}

/** Connects to a Postgres server with postgres.js. */
export function createPostgresDatabase(
  url: string,
  options: PostgresOptions = {},
): Database {
  const ssl = postgresSsl(options.tls);
  url = withoutTlsParams(url);
  const sql = postgres(url, {
    max: options.max ?? DEFAULT_POOL_MAX,
    ssl,
    onnotice: () => {},
    // A connection attempt against a dead server should fail fast so callers
    // can answer 503 instead of hanging.
    connect_timeout: 5,
  });
  const sessions = new Set<ListenSession>();
  // TLS failures happen when a connection opens, so only the calls that
  // open one need the explanation.
  const mode = options.tls?.mode ?? "disable";
  const explain = (error: unknown) => explainTlsFailure(error, mode);
  return {
    kind: "postgres",
    ...queryable(sql, explain),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      try {
        return await sql.begin((tx) => fn(queryable(tx))) as T;
      } catch (error) {
        throw explain(error);
      }
    },
    async listen(
      channels: string[],
      handlers: ListenHandlers,
    ): Promise<ListenSession> {
      // A private one-connection client instead of sql.listen(): postgres.js
      // re-listens only once after a drop and gives up silently if the
      // server is still down; the caller owns reconnects instead.
      let closedByUs = false;
      let established = false;
      const listenOptions = {
        max: 1,
        ssl,
        max_lifetime: null,
        connect_timeout: 5,
        fetch_types: false,
        onnotice: () => {},
        // postgres.js passes these through to its connection but does not
        // declare onnotify in its types; sql.listen() uses the same hook.
        onnotify(channel: string, payload: string) {
          if (channels.includes(channel)) handlers.onNotify(channel, payload);
        },
        onclose() {
          if (closedByUs || !established) return;
          closedByUs = true;
          void conn.end({ timeout: 0 });
          sessions.delete(session);
          handlers.onClose(new Error("LISTEN connection closed"));
        },
      };
      const conn = postgres(url, listenOptions as postgres.Options<never>);
      const session: ListenSession = {
        async ping() {
          await conn`select 1`;
        },
        async close() {
          closedByUs = true;
          sessions.delete(session);
          // end() waits for the socket to close, which a silently dead
          // connection (the reason the watchdog closes it) never does.
          let timer: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([
            conn.end({ timeout: 1 }),
            new Promise((resolve) => (timer = setTimeout(resolve, 2_000))),
          ]);
          clearTimeout(timer);
        },
      };
      try {
        await conn.unsafe(
          channels.map((c) => `listen "${c.replaceAll('"', '""')}";`).join(""),
        );
        established = true;
      } catch (error) {
        closedByUs = true;
        await conn.end({ timeout: 0 });
        throw explain(error);
      }
      sessions.add(session);
      return session;
    },
    async close() {
      await Promise.all([...sessions].map((s) => s.close()));
      await sql.end({ timeout: 1 });
    },
  };
}
