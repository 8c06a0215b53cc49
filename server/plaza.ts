import { TYPING_EVENT } from "../protocol/events.ts";
import {
  BANS_CHANNEL,
  HELD_CHANNEL,
  NAMES_CHANNEL,
  PRESENCE_CHANNEL,
  ROOM_CHANNEL,
  RULES_CHANNEL,
  TYPING_CHANNEL,
} from "../db/channels.ts";
import { createRuleStore } from "./store/rule_store.ts";
import { createRulesState } from "./limits/rules.ts";
import { heldSignal } from "./live/held_events.ts";
import { type BanList, createBanList } from "./limits/ban_list.ts";
import {
  createSlowModeState,
  type SlowModeState,
  startAutoSlowMode,
} from "./limits/slow_mode.ts";
import { createSlowModeStore } from "./store/slow_mode_store.ts";
import {
  createRoomSettingsState,
  type RoomSettings,
  type RoomSettingsState,
} from "./limits/lockdown.ts";
import { createRoomStore } from "./store/room_store.ts";
import type { SlowMode } from "../protocol/events.ts";
import { createBanStore } from "./store/ban_store.ts";
import { type ClaimCache, createClaimCache } from "./store/claim_cache.ts";
import { createNameStore } from "./store/name_store.ts";
import { createChangeFeed } from "./store/change_feed.ts";
import { createApp } from "./http/app.ts";
import type { AppLimits } from "./http/app_env.ts";
import { loadClientAssets } from "./http/client_assets.ts";
import { type Config, ConfigError, proxyTrustWarning } from "./config.ts";
import { createHub, type Hub } from "./live/hub.ts";
import { encodeText, formatRetry } from "./live/sse_format.ts";
import { describeError, type Logger, silentLogger } from "./observe/logger.ts";
import { createPlazaMetrics, type PlazaMetrics } from "./observe/metrics.ts";
import { createMessageStore } from "./store/message_store.ts";
import { startRetention } from "./store/retention.ts";
import { migrate, readMigrations } from "../db/migrate.ts";
import { validateTypingInput } from "../protocol/message.ts";
import {
  createNotifyListener,
  type SignalHandler,
} from "./live/notify_listener.ts";
import { createPresence, type Presence } from "./live/presence.ts";
import { createPushInstance } from "./push/instance.ts";
import {
  type AddressLimiter,
  createRateLimiter,
  noRateLimit,
  type RateLimiter,
} from "./limits/rate_limiter.ts";
import {
  createSharedRateLimiter,
  createSharedStreamSlots,
  type StreamSlots,
} from "./limits/shared_limits.ts";
import { createAttachmentStore } from "./store/attachment_store.ts";
import { startUnusedSweep } from "./attachments/sweep.ts";
import { createImagePool } from "./attachments/image_pool.ts";
import { DECODES_AT_ONCE } from "./http/attachment_routes.ts";
import type { Database } from "../db/database.ts";
import { setBodyDeadline } from "./http/read_body.ts";
import {
  type ResilientServeHooks,
  type ResilientServer,
  serveResilient,
} from "./http/resilient_serve.ts";

import { openDatabase } from "../db/open_database.ts";
import { fetchPreview } from "./previews/fetch_preview.ts";
import { createPreviewWorker } from "./previews/preview_worker.ts";
import { type PreviewGuard, publicOnly } from "./previews/ssrf_guard.ts";
import {
  type BotWorker,
  type BotWorkerOptions,
  createBotWorker,
} from "./bots/bot_worker.ts";

/** A running Plaza instance. */
export interface Plaza {
  /** Base URL, e.g. http://127.0.0.1:8000. */
  url: string;
  port: number;
  /**
   * The graceful stop (SIGTERM, SIGINT): /readyz and /healthz answer 503
   * `{"ok":false,"draining":true}` while everything else is served as
   * usual for DRAIN_MS, so balancers send new work elsewhere; then close().
   */
  shutdown(): Promise<void>;
  /** Ends every stream (with a short reconnect hint), stops serving, stops listening and closes the database. */
  close(): Promise<void>;
}

/** How long closing waits for re-reads of bans, room settings and rules still running. */
export const REREAD_CLOSE_MS = 2_000;
/** How often the open/opened/closed stream counts are logged (when any is non-zero). */
export const STREAMS_LOG_MS = 60_000;

/**
 * How long shutdown waits for responses to finish before closing anyway.
 * With the default DRAIN_MS (1.5 s) and CLOSE_MS this keeps a shutdown under
 * the 5 s Deno Deploy gives between SIGINT and SIGKILL.
 */
export const SHUTDOWN_GRACE_MS = 2_000;

/** Time allowed, after the grace, to stop push, presence and LISTEN and close the database; main.ts exits when it is up. */
export const CLOSE_MS = 1_000;

/**
 * The SSE `retry:` every stream gets as it is ended by a shutdown: an
 * EventSource comes back after this long (on another instance, the
 * balancer having seen /readyz fail) instead of after SSE_RETRY_MS.
 */
export const SHUTDOWN_RETRY_MS = 250;

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
    /** Where link previews may be fetched from; public addresses on ports 80 and 443 unless a test points it at its own site. */
    previewGuard?: PreviewGuard;
    /** Bot webhook timings and outcomes (tests); webhooks use previewGuard's rules. */
    bots?: Pick<
      BotWorkerOptions,
      "retryMs" | "timeoutMs" | "maxAttempts" | "idleMs" | "onOutcome"
    >;
  } = {},
): Promise<Plaza> {
  const logger = options.logger ?? silentLogger;
  const trustWarning = proxyTrustWarning(config.trustProxy);
  if (trustWarning !== null) {
    logger.warn("trust_proxy_any_peer", { message: trustWarning });
  }
  const where = config.databaseUrl === null
    ? `the embedded database in ${config.dataDir}`
    : "the database at DATABASE_URL";
  // Each step that opens something pushes its closer here right away. A
  // failed start closes exactly what was opened, newest first; a running
  // instance closes the same way in close().
  const opened = new AsyncDisposableStack();
  try {
    const db = await openDatabase(config);
    opened.defer(() => db.close());
    await step(
      async () => migrate(db, await readMigrations()),
      (why) =>
        `could not prepare ${where} (${why}). Check that it is running and reachable.`,
    );
    const push = await step(
      () => createPushInstance(db, config, logger),
      (why) => `could not read the push keys from ${where} (${why}).`,
    );

    // The gauge is read at scrape time, by then the hub exists.
    const metrics = createPlazaMetrics(() => hub.size);
    const hub = createHub({ heartbeatMs: config.heartbeatMs, metrics });
    const databaseError =
      (event: string) => (message: string, error: unknown) => {
        metrics.databaseErrors.inc();
        logger.error(event, { message, error: describeError(error) });
      };
    const instanceId = crypto.randomUUID();
    const presence = createPresence({
      db,
      hub,
      instanceId,
      onError: databaseError("presence_error"),
    });
    opened.defer(() => presence.close());
    // Re-reads started by a notification or by LISTEN coming back run on
    // their own; closing waits for them (at most REREAD_CLOSE_MS) so that
    // none is left waiting on the database after it is closed.
    const rereads = new Set<Promise<void>>();
    const reread = (run: Promise<void>): Promise<void> => {
      rereads.add(run);
      run.finally(() => rereads.delete(run));
      return run;
    };
    opened.defer(async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...rereads]),
        new Promise((resolve) => timer = setTimeout(resolve, REREAD_CLOSE_MS)),
      ]);
      clearTimeout(timer);
    });
    // Bans are cached here and re-read whenever any instance changes them.
    const banStore = createBanStore(db);
    const bans = createBanList(banStore);
    const bansError = databaseError("bans_error");
    const refreshBans = () =>
      reread(
        bans.refresh().catch((error) =>
          bansError("Could not re-read the bans", error)
        ),
      );
    // Claims are cached too, and forgotten when any instance changes one.
    const names = createClaimCache(createNameStore(db));
    // Slow mode, the notice and the lockdown likewise: each stream is told
    // them as it goes live, and every stream whenever one changes (or a
    // timed slow mode runs out).
    let slowNow: SlowMode | null = null;
    let settingsNow: RoomSettings = { notice: null, lockdown: null };
    const tellRoom = () => hub.setRoom({ slowMode: slowNow, ...settingsNow });
    const slowModeStore = createSlowModeStore(db);
    const slowMode = createSlowModeState(slowModeStore, (now) => {
      slowNow = now;
      tellRoom();
    });
    opened.defer(() => slowMode.close());
    const roomSettings = createRoomSettingsState(
      createRoomStore(db),
      (now) => {
        settingsNow = now;
        tellRoom();
      },
    );
    const slowModeError = databaseError("slow_mode_error");
    const roomError = databaseError("room_settings_error");
    const refreshRoom = () =>
      reread((async () => {
        await slowMode.refresh().catch((error) =>
          slowModeError("Could not re-read slow mode", error)
        );
        await roomSettings.refresh().catch((error) =>
          roomError("Could not re-read the notice and lockdown", error)
        );
      })());
    // Word and link rules and their mutes likewise.
    const ruleStore = createRuleStore(db);
    const rules = createRulesState(ruleStore);
    const rulesError = databaseError("rules_error");
    const refreshRules = () =>
      reread(
        rules.refresh().catch((error) =>
          rulesError("Could not re-read the rules", error)
        ),
      );
    const logLive = liveLogger(logger, metrics);
    // The change log: the listener's back-fill and every stream's replay.
    const changes = createChangeFeed(db);
    const previewGuard = options.previewGuard ?? publicOnly;
    const previews = config.linkPreviews
      ? createPreviewWorker({
        db,
        fetch: (url, signal) =>
          fetchPreview(url, { guard: previewGuard, signal }),
        onError: databaseError("preview_error"),
      })
      : null;
    if (previews) opened.defer(() => previews.close());
    // Made once the message store exists (it posts the bots' answers).
    let bots: BotWorker | null = null;
    const listener = createNotifyListener({
      db,
      changes,
      hub,
      // Every message the listener publishes also wakes the push dispatcher
      // (no second LISTEN connection and no extra NOTIFY per post) and is
      // offered for a link preview: after its commit, never on the post path.
      onPublish: (change) => {
        if (change.kind !== "message") return;
        push.wake();
        bots?.wake();
        previews?.offer(change.message);
      },
      onError: databaseError("listen_error"),
      onLiveChange: (live) => {
        logLive(live);
        names.setLive(live);
        // A change made while LISTEN was down sent a NOTIFY no one heard.
        if (live) {
          // One after another: the pool is still reconnecting, and a burst
          // of reads at this moment left a connection retrying past close.
          reread((async () => {
            await refreshBans();
            await refreshRoom();
            await refreshRules();
          })());
        }
      },
      signals: {
        ...signalHandlers(hub, presence, refreshBans, refreshRoom, names),
        [RULES_CHANNEL]: () => refreshRules(),
        [HELD_CHANNEL]: heldSignal(hub, ruleStore, rulesError),
      },
    });
    opened.defer(() => listener.close());
    await step(
      async () => {
        await listener.start();
        await presence.start();
        await bans.refresh();
        await slowMode.refresh();
        await rules.refresh();
        await roomSettings.refresh();
      },
      (why) => `could not LISTEN on ${where} (${why}).`,
    );
    const auto = config.slowModeAuto;
    if (auto !== null) {
      const checks = startAutoSlowMode(
        slowModeStore,
        {
          messages: auto.messages,
          windowSeconds: auto.windowSeconds,
          seconds: auto.seconds,
          holdSeconds: auto.holdMs / 1000,
        },
        auto.checkMs,
        slowModeError,
      );
      opened.defer(() => checks.close());
    }
    // Published at once on commit, without waiting for their NOTIFY.
    const store = createMessageStore(db, {
      onCommitted: (messages) => listener.committed(messages),
    });

    // Mentions of bots are POSTed to their webhooks, after the commit.
    const botWorker = createBotWorker({
      db,
      store,
      guard: previewGuard,
      logger,
      banned: (name) => bans.ofName(name) !== null,
      ...options.bots,
    });
    bots = botWorker;
    opened.defer(() => botWorker.close());
    botWorker.wake();
    if (config.retentionDays > 0) {
      const retention = startRetention({
        db,
        store,
        days: config.retentionDays,
        instanceId,
        onError: databaseError("retention_error"),
        onRun: (removed) =>
          logger.info("retention_run", {
            message:
              `Removed ${removed} messages older than ${config.retentionDays} days.`,
          }),
      });
      opened.defer(() => retention.close());
    }

    const assets = await step(
      () => loadClientAssets(config.distDir),
      (why) =>
        `could not read the built client in ${config.distDir} (${why}). Run \`deno task build\` again.`,
    );
    if (assets === null) {
      logger.warn("no_client_build", {
        message:
          `No built client in ${config.distDir}: run \`deno task build\` to serve the web app.`,
      });
    }
    const streamSlots = createSharedStreamSlots(db, {
      instanceId,
      onError: databaseError("stream_count_error"),
    });
    opened.defer(() => streamSlots.close());
    // Set once close() starts; the app uses it to tell uploads cut off by
    // the shutdown from ones the client abandoned.
    let closing: Promise<void> | null = null;
    // Set once shutdown() or close() starts: the instance is not ready.
    let draining = false;
    const attachments = createAttachmentStore(db);
    const sweep = startUnusedSweep(
      attachments,
      config.attachments.unusedMinutes * 60_000,
      databaseError("attachment_sweep_error"),
    );
    opened.defer(() => sweep.close());
    // Decoding a photo takes a third of a second: done in workers, so the
    // instance keeps serving meanwhile.
    const pictures = createImagePool(DECODES_AT_ONCE);
    opened.defer(() => pictures.close());
    const app = createApp({
      store,
      attachments,
      uploadSettings: config.attachments,
      processPicture: pictures.process,
      changes,
      nameIdleDays: config.nameIdleDays,
      names,
      db,
      limits: appLimits(
        config,
        await streamCap(config.maxStreams, logger),
        db,
        streamSlots,
        bans,
        slowMode,
        roomSettings,
      ),
      bans: banStore,
      slowModePauseSeconds: auto === null ? 0 : auto.holdMs / 1000,
      ruleStore,
      rules,
      newcomerDelayMinutes: config.newcomerDelayMinutes,
      hub,
      listener,
      assets,
      retryMs: config.sseRetryMs,
      heartbeatMs: config.heartbeatMs,
      allowedOrigins: config.allowedOrigins,
      embedOrigins: config.embedOrigins,
      publicUrl: config.publicUrl,
      adminToken: config.adminToken,
      stopping: () => closing !== null,
      draining: () => draining,
      streamBufferBytes: config.streamBufferBytes,
      logger,
      metrics,
      metricsToken: config.metricsToken,
      push: push.routes,
    });

    push.start();
    opened.defer(() => push.close());
    const server = step(
      () =>
        serveResilient(
          { port: config.port, hostname: config.hostname },
          (request, info) => {
            setBodyDeadline(request, performance.now() + config.bodyTimeoutMs);
            return app.fetch(request, info);
          },
          acceptFailureLogger(logger),
        ),
      (why) =>
        `could not listen on ${config.hostname}:${config.port} (${why}). Set PORT (or HOST) to a free address.`,
    );
    opened.defer(() => stopServing(server, hub, logger));
    const streamsLog = setInterval(
      streamsLogger(logger, metrics, hub),
      STREAMS_LOG_MS,
    );
    opened.defer(() => clearInterval(streamsLog));

    const { port } = server;
    const host = config.hostname === "0.0.0.0" ? "localhost" : config.hostname;
    const url = `http://${host}:${port}`;
    options.onListen?.(url);
    const running = opened.move();
    const close = () => {
      draining = true;
      return closing ??= running.disposeAsync();
    };
    let shuttingDown: Promise<void> | null = null;
    return {
      url,
      port,
      close,
      shutdown: () =>
        shuttingDown ??= (async () => {
          draining = true;
          logger.info("draining", {
            message:
              `Not ready (503 on /readyz) for ${config.drainMs} ms while still serving, then streams end.`,
          });
          await new Promise((resolve) => setTimeout(resolve, config.drainMs));
          await close();
        })(),
    };
  } catch (error) {
    // The start-up error is the one to report, not a failure to close.
    await opened.disposeAsync().catch(() => {});
    throw error;
  }
}

/**
 * Runs one start-up step, turning its failure into a StartupError whose
 * message (from `explain`, given the cause's message) tells the operator
 * what to fix. A ConfigError already does and passes through.
 */
function step<T>(run: () => T, explain: (why: string) => string): T {
  const fail = (error: unknown): never => {
    if (error instanceof ConfigError) throw error;
    throw new StartupError(explain(describe(error)), { cause: error });
  };
  let result: T;
  try {
    result = run();
  } catch (error) {
    return fail(error);
  }
  return result instanceof Promise ? result.catch(fail) as T : result;
}

/** Ends every stream, then stops the server, waiting at most SHUTDOWN_GRACE_MS. */
async function stopServing(
  server: ResilientServer,
  hub: Hub,
  logger: Logger,
): Promise<void> {
  // Streams first: Deno.serve's shutdown() waits for open responses, and
  // ending them with a short retry sends clients to reconnect elsewhere at
  // once.
  hub.close(encodeText(formatRetry(SHUTDOWN_RETRY_MS)));
  // shutdown() also finishes in-flight POSTs, but it waits forever on a
  // client that stopped reading (its bytes sit in a socket write), and
  // aborting the server after shutdown() crashes Deno 2.9. So wait a bounded
  // time and move on; main.ts exits the process after close().
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
}

/** Channels other than the change log: presence recounts and typing, to the hub. */
function signalHandlers(
  hub: Hub,
  presence: Presence,
  refreshBans: () => void,
  refreshRoom: () => void,
  names: ClaimCache,
): Record<string, SignalHandler> {
  return {
    [BANS_CHANNEL]: () => refreshBans(),
    [ROOM_CHANNEL]: () => refreshRoom(),
    [NAMES_CHANNEL]: (key) => names.invalidate(key),
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
  };
}

/** Logs the LISTEN session going up and down and counts its comebacks. */
function liveLogger(
  logger: Logger,
  metrics: PlazaMetrics,
): (live: boolean) => void {
  let everLive = false;
  return (live) => {
    if (!live) {
      logger.warn("listen_down");
      return;
    }
    if (everLive) metrics.listenerReconnects.inc();
    logger.info("listen_up", { reconnect: everLive });
    everLive = true;
  };
}

/** MAX_STREAMS, lowered (with a warning) to what the open-file limit holds. */
async function streamCap(maxStreams: number, logger: Logger): Promise<number> {
  const fdLimit = await openFileLimit();
  if (fdLimit === null || streamsWithin(fdLimit) >= maxStreams) {
    return maxStreams;
  }
  const capped = streamsWithin(fdLimit);
  logger.warn("streams_capped", {
    message:
      `The open-file limit (${fdLimit}) holds about ${capped} streams: new streams get 503 beyond that. Raise \`ulimit -n\` for more.`,
    maxStreams: capped,
    fdLimit,
  });
  return capped;
}

function limiter(limit: Config["postLimit"]): RateLimiter {
  return limit === null ? noRateLimit : createRateLimiter({
    capacity: limit.burst,
    perSecond: limit.perSecond,
  });
}

/** A limit every instance on `db` spends from together. */
function sharedLimiter(
  db: Database,
  kind: string,
  limit: Config["postLimit"],
): AddressLimiter {
  return limit === null ? noRateLimit : createSharedRateLimiter(db, {
    kind,
    capacity: limit.burst,
    perSecond: limit.perSecond,
  });
}

/** The app's abuse limits from the config; posts, typing, reports and streams are counted in the database. */
function appLimits(
  config: Config,
  maxStreams: number,
  db: Database,
  streamSlots: StreamSlots,
  bans: BanList,
  slowMode: SlowModeState,
  room: RoomSettingsState,
): AppLimits {
  return {
    post: sharedLimiter(db, "post", config.postLimit),
    typing: sharedLimiter(db, "typing", config.typingLimit),
    report: sharedLimiter(db, "report", config.reportLimit),
    upload: sharedLimiter(db, "upload", config.attachments.uploadLimit),
    uploadPerName: sharedLimiter(
      db,
      "upload_name",
      config.attachments.uploadLimit,
    ),
    streamSlots,
    bans,
    slowMode,
    room,
    authFailures: limiter(config.authFailureLimit),
    streamsPerAddress: config.streamsPerAddress,
    maxStreams,
    trustProxy: config.trustProxy,
    streamMaxAgeMs: config.streamMaxAgeMs,
  };
}

/** Logs accept failures at most once per ACCEPT_FAILURE_LOG_MS (a flood causes many). */
function acceptFailureLogger(logger: Logger): ResilientServeHooks {
  let failures = 0;
  let loggedAt = -Infinity;
  return {
    onAcceptFailed: (error) => {
      failures++;
      if (performance.now() - loggedAt < ACCEPT_FAILURE_LOG_MS) return;
      logger.error("accept_failed", {
        message: `Could not accept connections (${
          describe(error)
        }); closed the idle ones and listening again.`,
        failures,
      });
      failures = 0;
      loggedAt = performance.now();
    },
    onRelistenFailed: (error, retryMs) =>
      logger.error("relisten_failed", {
        message: `Could not listen again (${
          describe(error)
        }); next try in ${retryMs} ms.`,
      }),
  };
}

/**
 * One line a minute about streams, not one per connection: at thousands of
 * clients per-stream lines would drown everything else. Each call logs the
 * counts since the previous one.
 */
function streamsLogger(
  logger: Logger,
  metrics: PlazaMetrics,
  hub: Hub,
): () => void {
  let loggedOpened = 0;
  let loggedClosed = 0;
  return () => {
    const opened = metrics.streamsOpened.get() - loggedOpened;
    const closed = metrics.streamsClosed.get() - loggedClosed;
    loggedOpened += opened;
    loggedClosed += closed;
    if (hub.size === 0 && opened === 0 && closed === 0) return;
    logger.info("streams", { open: hub.size, opened, closed });
  };
}
