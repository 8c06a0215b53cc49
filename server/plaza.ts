import { TYPING_EVENT } from "../protocol/events.ts";
import { PRESENCE_CHANNEL, TYPING_CHANNEL } from "../db/channels.ts";
import { createApp } from "./http/app.ts";
import { loadClientAssets } from "./http/client_assets.ts";
import { type Config, ConfigError } from "./config.ts";
import { createHub } from "./live/hub.ts";
import { describeError, type Logger, silentLogger } from "./observe/logger.ts";
import { createPlazaMetrics } from "./observe/metrics.ts";
import { createMessageStore } from "./store/message_store.ts";
import { createChangeFeed } from "./store/change_feed.ts";
import { migrate, readMigrations } from "../db/migrate.ts";
import { type Message, validateTypingInput } from "../protocol/message.ts";
import { createNotifyListener } from "./live/notify_listener.ts";
import { createPresence } from "./live/presence.ts";
import { createPushInstance, type PushInstance } from "./push/instance.ts";
import { createRateLimiter, noRateLimit } from "./limits/rate_limiter.ts";
import { setBodyDeadline } from "./http/read_body.ts";
import {
  type ResilientServer,
  serveResilient,
} from "./http/resilient_serve.ts";

import { openDatabase } from "../db/open_database.ts";

/** A running Plaza instance. */
export interface Plaza {
  /** Base URL, e.g. http://127.0.0.1:8000. */
  url: string;
  port: number;
  /** Ends every stream, stops serving, stops listening and closes the database. */
  close(): Promise<void>;
}

/** How often the open/opened/closed stream counts are logged (when any is non-zero). */
export const STREAMS_LOG_MS = 60_000;

/** How long shutdown waits for responses to finish before closing anyway. */
export const SHUTDOWN_GRACE_MS = 3_000;

/**
 * Share of the open-file limit kept free of streams, for requests, the
 * database, files and idle keep-alive connections. With it, streams alone
 * never use up the descriptors; then accept failures come only from sockets
 * that resilient_serve.ts sheds.
 */
export const RESERVED_FD_SHARE = 0.1;
/** Least number of descriptors kept free of streams (see RESERVED_FD_SHARE). */
export const RESERVED_FD_MIN = 64;

/** Least time between two log lines about accept failures (a flood causes many). */
export const ACCEPT_FAILURE_LOG_MS = 10_000;

/** Start-up failed in a way the operator must fix; the message says how. */
export class StartupError extends Error {
  override name = "StartupError";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** This process's soft limit on open files, from /proc (Linux); null when unknown or unlimited. */
export async function openFileLimit(): Promise<number | null> {
  let limits: string;
  try {
    limits = await Deno.readTextFile("/proc/self/limits");
  } catch {
    return null;
  }
  const soft = limits.match(/^Max open files\s+(\d+)/m);
  return soft ? Number(soft[1]) : null;
}

/** Streams that fit in `fdLimit` descriptors with the reserve kept free. */
export function streamsWithin(fdLimit: number): number {
  const reserve = Math.max(
    RESERVED_FD_MIN,
    Math.ceil(fdLimit * RESERVED_FD_SHARE),
  );
  return Math.max(1, fdLimit - reserve);
}

/** Opens the database, applies migrations, starts listening and serves HTTP. */
export async function startPlaza(
  config: Config,
  options: {
    /** Told the URL once the server accepts connections. */
    onListen?: (url: string) => void;
    /** Where the instance logs; silent when absent (tests). */
    logger?: Logger;
  } = {},
): Promise<Plaza> {
  const logger = options.logger ?? silentLogger;
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
  let push: PushInstance;
  try {
    push = await createPushInstance(db, config, logger);
  } catch (error) {
    await db.close().catch(() => {});
    if (error instanceof ConfigError) throw error;
    throw new StartupError(
      `could not read the push keys from ${where} (${describe(error)}).`,
      { cause: error },
    );
  }
  // The listener publishes this instance's own commits without waiting for
  // their NOTIFY; it is created below, hence the late binding.
  let onCommitted: (messages: readonly Message[]) => void = () => {};
  const store = createMessageStore(db, {
    onCommitted: (messages) => onCommitted(messages),
  });
  // The gauge reads the hub, which needs the metrics: tie the knot lazily.
  let openStreams = () => 0;
  const metrics = createPlazaMetrics(() => openStreams());
  const hub = createHub({ heartbeatMs: config.heartbeatMs, metrics });
  openStreams = () => hub.size;
  const databaseError =
    (event: string) => (message: string, error: unknown) => {
      metrics.databaseErrors.inc();
      logger.error(event, { message, error: describeError(error) });
    };
  const presence = createPresence({
    db,
    hub,
    instanceId: crypto.randomUUID(),
    onError: databaseError("presence_error"),
  });
  let everLive = false;
  const changes = createChangeFeed(db);
  const listener = createNotifyListener({
    db,
    changes,
    hub,
    // Every message the listener publishes also wakes the push dispatcher:
    // no second LISTEN connection and no extra NOTIFY per post.
    onPublish: (change) => {
      if (change.kind === "message") push.wake();
    },
    onError: databaseError("listen_error"),
    onLiveChange: (live) => {
      if (live) {
        if (everLive) metrics.listenerReconnects.inc();
        logger.info("listen_up", { reconnect: everLive });
        everLive = true;
      } else {
        logger.warn("listen_down");
      }
    },
    signals: {
      [PRESENCE_CHANNEL]: () => presence.onNotify(),
      [TYPING_CHANNEL]: (payload) => {
        // Anyone can NOTIFY this channel: pass on only a valid name.
        let author;
        try {
          author = validateTypingInput(JSON.parse(payload));
        } catch {
          return;
        }
        if (author.ok) hub.signal(TYPING_EVENT, { author: author.value });
      },
    },
  });
  onCommitted = (messages) => listener.committed(messages);
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
  let maxStreams = config.maxStreams;
  const fdLimit = await openFileLimit();
  if (fdLimit !== null && streamsWithin(fdLimit) < maxStreams) {
    maxStreams = streamsWithin(fdLimit);
    logger.warn("streams_capped", {
      message:
        `The open-file limit (${fdLimit}) holds about ${maxStreams} streams: new streams get 503 beyond that. Raise \`ulimit -n\` for more.`,
      maxStreams,
      fdLimit,
    });
  }
  const assets = await loadClientAssets(config.distDir);
  if (assets === null) {
    logger.warn("no_client_build", {
      message:
        `No built client in ${config.distDir}: run \`deno task build\` to serve the web app.`,
    });
  }
  // Set once close() starts; the app uses it to tell uploads cut off by the
  // shutdown from ones the client abandoned.
  let closing: Promise<void> | null = null;
  const app = createApp({
    store,
    changes,
    nameIdleDays: config.nameIdleDays,
    db,
    limits: {
      post: config.postLimit === null ? noRateLimit : createRateLimiter({
        capacity: config.postLimit.burst,
        perSecond: config.postLimit.perSecond,
      }),
      typing: config.typingLimit === null ? noRateLimit : createRateLimiter({
        capacity: config.typingLimit.burst,
        perSecond: config.typingLimit.perSecond,
      }),
      authFailures: config.authFailureLimit === null
        ? noRateLimit
        : createRateLimiter({
          capacity: config.authFailureLimit.burst,
          perSecond: config.authFailureLimit.perSecond,
        }),
      streamsPerAddress: config.streamsPerAddress,
      maxStreams,
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
    logger,
    metrics,
    metricsToken: config.metricsToken,
    push: push.routes,
  });
  let server: ResilientServer;
  let acceptFailures = 0;
  let acceptLoggedAt = -Infinity;
  try {
    server = serveResilient(
      { port: config.port, hostname: config.hostname },
      (request, info) => {
        setBodyDeadline(request, performance.now() + config.bodyTimeoutMs);
        return app.fetch(request, info);
      },
      {
        onAcceptFailed: (error) => {
          acceptFailures++;
          if (performance.now() - acceptLoggedAt < ACCEPT_FAILURE_LOG_MS) {
            return;
          }
          logger.error("accept_failed", {
            message: `Could not accept connections (${
              describe(error)
            }); closed the idle ones and listening again.`,
            failures: acceptFailures,
          });
          acceptFailures = 0;
          acceptLoggedAt = performance.now();
        },
        onRelistenFailed: (error, retryMs) =>
          logger.error("relisten_failed", {
            message: `Could not listen again (${
              describe(error)
            }); next try in ${retryMs} ms.`,
          }),
      },
    );
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
  const { port } = server;
  const host = config.hostname === "0.0.0.0" ? "localhost" : config.hostname;
  const url = `http://${host}:${port}`;
  options.onListen?.(url);
  push.start();

  // One line a minute about streams, not one per connection: at thousands of
  // clients per-stream lines would drown everything else.
  let loggedOpened = 0;
  let loggedClosed = 0;
  const streamsTimer = setInterval(() => {
    const opened = metrics.streamsOpened.get() - loggedOpened;
    const closed = metrics.streamsClosed.get() - loggedClosed;
    loggedOpened += opened;
    loggedClosed += closed;
    if (hub.size === 0 && opened === 0 && closed === 0) return;
    logger.info("streams", { open: hub.size, opened, closed });
  }, STREAMS_LOG_MS);

  return {
    url,
    port,
    close() {
      closing ??= (async () => {
        clearInterval(streamsTimer);
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
          logger.warn("shutdown_timeout", {
            message:
              `Some connections did not finish within ${SHUTDOWN_GRACE_MS} ms; closing anyway.`,
          });
        }
        await push.close();
        await presence.close();
        await listener.close();
        await db.close();
      })();
      return closing;
    },
  };
}
