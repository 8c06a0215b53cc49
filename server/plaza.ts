import { createApp } from "./app.ts";
import { loadClientAssets } from "./client_assets.ts";
import type { Config } from "./config.ts";
import { createHub } from "./hub.ts";
import { createMessageStore } from "./message_store.ts";
import { migrate, readMigrations } from "./migrate.ts";
import { validateTypingInput } from "./message.ts";
import { createNotifyListener } from "./notify_listener.ts";
import { createPresence, PRESENCE_CHANNEL } from "./presence.ts";
import { TYPING_CHANNEL } from "./post_typing.ts";
import { createRateLimiter } from "./rate_limiter.ts";

/** The channel db/migrations/003_deletes.sql notifies with a deleted message's id. */
const DELETES_CHANNEL = "plaza_deletes";
import { openDatabase } from "./open_database.ts";

/** A running Plaza instance. */
export interface Plaza {
  /** Base URL, e.g. http://127.0.0.1:8000. */
  url: string;
  port: number;
  /** Ends every stream, stops serving, stops listening and closes the database. */
  close(): Promise<void>;
}

/** How long shutdown waits for responses to finish before closing anyway. */
export const SHUTDOWN_GRACE_MS = 3_000;

/** Start-up failed in a way the operator must fix; the message says how. */
export class StartupError extends Error {
  override name = "StartupError";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Opens the database, applies migrations, starts listening and serves HTTP. */
export async function startPlaza(
  config: Config,
  options: {
    onListen?: (url: string) => void;
    onWarning?: (message: string) => void;
  } = {},
): Promise<Plaza> {
  const db = await openDatabase(config);
  const where = config.databaseUrl === null
    ? `the embedded database in ${config.dataDir}`
    : "the database at DATABASE_URL";
  try {
    await migrate(db, await readMigrations());
  } catch (error) {
    await db.close().catch(() => {});
    throw new StartupError(
      `could not prepare ${where} (${
        describe(error)
      }). Check that it is running and reachable.`,
      { cause: error },
    );
  }
  const store = createMessageStore(db);
  const hub = createHub({ heartbeatMs: config.heartbeatMs });
  const presence = createPresence({
    db,
    hub,
    instanceId: crypto.randomUUID(),
  });
  const listener = createNotifyListener({
    db,
    store,
    hub,
    signals: {
      [PRESENCE_CHANNEL]: () => presence.onNotify(),
      [DELETES_CHANNEL]: (payload) => {
        // The delete trigger sends the bare id.
        const id = Number(payload);
        if (Number.isSafeInteger(id) && id > 0) hub.signal("delete", { id });
      },
      [TYPING_CHANNEL]: (payload) => {
        // Anyone can NOTIFY this channel: pass on only a valid name.
        let author;
        try {
          author = validateTypingInput(JSON.parse(payload));
        } catch {
          return;
        }
        if (author.ok) hub.signal("typing", { author: author.value });
      },
    },
  });
  try {
    await listener.start();
    await presence.start();
  } catch (error) {
    await presence.close();
    await listener.close();
    await db.close().catch(() => {});
    throw new StartupError(
      `could not LISTEN on ${where} (${describe(error)}).`,
      { cause: error },
    );
  }
  const assets = await loadClientAssets(config.distDir);
  if (assets === null) {
    options.onWarning?.(
      `No built client in ${config.distDir}: run \`deno task build\` to serve the web app.`,
    );
  }
  // Set once close() starts; the app uses it to tell uploads cut off by the
  // shutdown from ones the client abandoned.
  let closing: Promise<void> | null = null;
  const app = createApp({
    store,
    db,
    limits: {
      post: createRateLimiter({
        capacity: config.postLimit.burst,
        perSecond: config.postLimit.perSecond,
      }),
      typing: createRateLimiter({
        capacity: config.typingLimit.burst,
        perSecond: config.typingLimit.perSecond,
      }),
      streamsPerAddress: config.streamsPerAddress,
      maxStreams: config.maxStreams,
      trustProxy: config.trustProxy,
      streamMaxAgeMs: config.streamMaxAgeMs,
    },
    hub,
    listener,
    assets,
    retryMs: config.sseRetryMs,
    heartbeatMs: config.heartbeatMs,
    allowedOrigins: config.allowedOrigins,
    adminToken: config.adminToken,
    stopping: () => closing !== null,
    streamBufferBytes: config.streamBufferBytes,
  });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      port: config.port,
      hostname: config.hostname,
      onListen: () => {},
    }, app.fetch);
  } catch (error) {
    hub.close();
    await presence.close();
    await listener.close();
    await db.close().catch(() => {});
    throw new StartupError(
      `could not listen on ${config.hostname}:${config.port} (${
        describe(error)
      }). Set PORT (or HOST) to a free address.`,
      { cause: error },
    );
  }
  const { port } = server.addr;
  const host = config.hostname === "0.0.0.0" ? "localhost" : config.hostname;
  const url = `http://${host}:${port}`;
  options.onListen?.(url);

  return {
    url,
    port,
    close() {
      closing ??= (async () => {
        // Streams first: Deno.serve's shutdown() waits for open responses,
        // and ending them sends clients to reconnect elsewhere at once.
        hub.close();
        // shutdown() also finishes in-flight POSTs, but it waits forever on a
        // client that stopped reading (its bytes sit in a socket write), and
        // aborting the server after shutdown() crashes Deno 2.9. So wait a
        // bounded time and move on; main.ts exits the process after close().
        let timer: ReturnType<typeof setTimeout> | undefined;
        const drained = await Promise.race([
          server.shutdown().then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), SHUTDOWN_GRACE_MS);
          }),
        ]);
        clearTimeout(timer);
        if (!drained) {
          options.onWarning?.(
            `Some connections did not finish within ${SHUTDOWN_GRACE_MS} ms; closing anyway.`,
          );
        }
        await presence.close();
        await listener.close();
        await db.close();
      })();
      return closing;
    },
  };
}
