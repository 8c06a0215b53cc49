import postgres from "postgres";
import type {
  Database,
  ListenHandlers,
  ListenSession,
  Queryable,
} from "./database.ts";

type Sql = postgres.Sql;
type Params = postgres.ParameterOrJSON<never>[];

function queryable(sql: Sql | postgres.TransactionSql): Queryable {
  return {
    async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
      const rows = await sql.unsafe(text, params as Params);
      return rows as unknown as T[];
    },
    async exec(text: string): Promise<void> {
      // Without parameters postgres.js uses the simple protocol, which
      // accepts several statements.
      await sql.unsafe(text);
    },
  };
}

/** Options for connecting to a Postgres server. */
export interface PostgresOptions {
  /** Pool size for queries; LISTEN uses its own extra connection. */
  max?: number;
}

/** Connects to a Postgres server with postgres.js. */
export function createPostgresDatabase(
  url: string,
  options: PostgresOptions = {},
): Database {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // A connection attempt against a dead server should fail fast so callers
    // can answer 503 instead of hanging.
    connect_timeout: 5,
  });
  const sessions = new Set<ListenSession>();
  return {
    kind: "postgres",
    ...queryable(sql),
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return sql.begin((tx) => fn(queryable(tx))) as Promise<T>;
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
        throw error;
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
