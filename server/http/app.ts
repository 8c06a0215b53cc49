import { Hono, type MiddlewareHandler } from "hono";
import { requestId } from "hono/request-id";
import type { ClientAssets } from "./client_assets.ts";
import { type Database, DatabaseUnavailableError } from "../../db/database.ts";
import {
  API_CACHE_CONTROL,
  errorResponse,
  unavailableResponse,
} from "./http_error.ts";
import type { Hub } from "../live/hub.ts";
import type { MessageStore } from "../store/message_store.ts";
import { type ChangeFeed, createChangeFeed } from "../store/change_feed.ts";
import { createNameStore, type NameStore } from "../store/name_store.ts";
import { registerNameRoutes } from "./name_routes.ts";
import { registerEraseRoutes } from "./erase_routes.ts";
import { registerExportRoutes } from "./export_routes.ts";
import { registerMessageChangeRoutes } from "./message_change_routes.ts";
import { describeError, type Logger, silentLogger } from "../observe/logger.ts";
import { createPlazaMetrics, type PlazaMetrics } from "../observe/metrics.ts";
import { originCheck } from "./origin_check.ts";
import { type PushRoutes, registerPushRoutes } from "../push/routes.ts";
import type { AppEnv, AppLimits } from "./app_env.ts";
import { securityHeaders } from "./security_headers.ts";
import { allowedMethodsOnly } from "./method_not_allowed.ts";
import { registerAssetRoutes } from "./asset_routes.ts";
import { registerStreamRoutes } from "./stream_routes.ts";
import { registerMessageRoutes } from "./message_routes.ts";
import { createMessageSearch } from "../store/search.ts";
import { registerTypingRoutes } from "./post_typing.ts";
import { registerHealthRoutes } from "./health_routes.ts";
import { registerMetricsRoutes } from "./metrics_routes.ts";
import {
  addressBanGuard,
  registerModerationRoutes,
} from "./moderation_routes.ts";
import { type BanStore, createBanStore } from "../store/ban_store.ts";
import { createBanList } from "../limits/ban_list.ts";
import { registerReportRoutes } from "./report_routes.ts";
import { createReportStore, type ReportStore } from "../store/report_store.ts";
import {
  createSlowModeGate,
  createSlowModeState,
} from "../limits/slow_mode.ts";
import { createSlowModeStore } from "../store/slow_mode_store.ts";
import { registerSlowModeRoutes } from "./slow_mode_routes.ts";
import { registerBotRoutes } from "./bot_routes.ts";
import { createBotStore } from "../bots/bot_store.ts";
import {
  registerAttachmentRoutes,
  type UploadSettings,
} from "./attachment_routes.ts";
import {
  type AttachmentStore,
  createAttachmentStore,
} from "../store/attachment_store.ts";
import {
  DEFAULT_IMAGE_MAX_BYTES,
  DEFAULT_IMAGE_MAX_PIXELS,
  DEFAULT_IMAGE_STORAGE_CAP,
} from "../config/attachments.ts";
import { noRateLimit } from "../limits/rate_limiter.ts";
import { registerRuleRoutes } from "./rule_routes.ts";
import { createRuleStore, type RuleStore } from "../store/rule_store.ts";
import {
  createRulesGate,
  createRulesState,
  type RulesState,
} from "../limits/rules.ts";
import { createNewcomerGate } from "../limits/newcomer.ts";
import { heldEventsOf } from "../live/held_events.ts";
import { createRoomStore } from "../store/room_store.ts";
import {
  createLockdownGate,
  createRoomSettingsState,
} from "../limits/lockdown.ts";
import { registerRoomRoutes } from "./room_routes.ts";
import type { ProcessPicture } from "../attachments/image_pool.ts";

export { DEFAULT_HISTORY, MAX_PAGE } from "./stream_routes.ts";

/** What the HTTP app is built from; tests pass their own. */
export interface AppDependencies {
  store: MessageStore;
  /** Claimed names; over `db` when absent. */
  names?: NameStore;
  /** The change log streams replay; over `db` when absent. */
  changes?: ChangeFeed;
  /** NAME_IDLE_DAYS (0 = names are never released for idleness; the default). */
  nameIdleDays?: number;
  /** For signals that are not stored (typing). */
  db: Database;
  /** Abuse limits; see Config for what each means. */
  limits: AppLimits;
  hub: Hub;
  /** Whether this instance's LISTEN session is up (for /healthz). */
  listener: { readonly live: boolean };
  /** The built client, or null to answer / with a hint to build it. */
  assets: ClientAssets | null;
  retryMs: number;
  heartbeatMs: number;
  streamBufferBytes: number;
  /** Other sites whose pages may POST here (see origin_check.ts). */
  allowedOrigins?: readonly string[];
  /** Sites whose pages may frame /embed (EMBED_ORIGINS; none when absent). */
  embedOrigins?: readonly string[];
  /** PUBLIC_URL's origin, always allowed to POST (see origin_check.ts). */
  publicUrl?: string | null;
  /** With a token, DELETE /messages/:id exists for moderators. */
  adminToken?: string | null;
  /** True once the instance is shutting down (tells a cut-off upload from a client's fault). */
  stopping?: () => boolean;
  /** True once the instance is draining before it stops: /healthz and /readyz say 503. */
  draining?: () => boolean;
  /** Where request errors are logged; silent when absent (tests). */
  logger?: Logger;
  /** Counters shown at /metrics; a fresh set reading this hub when absent. */
  metrics?: PlazaMetrics;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string | null;
  /** Web Push routes (/push/…); absent, they do not exist. */
  push?: PushRoutes;
  /** Moderators' bans; over `db` when absent (the cache is `limits.bans`). */
  bans?: BanStore;
  /** Readers' reports of messages; over `db` when absent. */
  reports?: ReportStore;
  /** Pictures; over `db` when absent. */
  attachments?: AttachmentStore;
  /** Upload caps (IMAGE_*); the defaults when absent. */
  uploadSettings?: UploadSettings;
  /** Where uploads are checked and stripped (plaza.ts: a worker pool); inline when absent. */
  processPicture?: ProcessPicture;
  /** How long turning slow mode off keeps automatic slow mode away, in seconds (0 or absent: not at all). */
  slowModePauseSeconds?: number;
  /** Word and link rules, mutes and held messages; over `db` when absent. */
  ruleStore?: RuleStore;
  /** The rules and mutes in force, cached; one over the store (refreshed only by this app's own routes) when absent. */
  rules?: RulesState;
  /** NEWCOMER_DELAY_MINUTES (0 or absent: off). */
  newcomerDelayMinutes?: number;
}

/** Header carrying the request id, taken from a proxy or made up here. */
export const REQUEST_ID_HEADER = "X-Request-Id";
/**
 * Longest request id kept from a proxy. hono/request-id also keeps only
 * letters, digits, `_`, `-` and `=`, so an id is harmless in a log line;
 * any other is replaced by a UUID.
 */
export const MAX_REQUEST_ID_LENGTH = 128;

/** Builds the Hono app: the HTML client, POST /messages, GET /stream, scrollback and health. */
export function createApp(deps: AppDependencies): Hono<AppEnv> {
  const { store, hub } = deps;
  // Without a cache from plaza.ts (tests), one filled by this app's changes.
  const banStore = deps.bans ?? createBanStore(deps.db);
  const bans = deps.limits.bans ?? createBanList(banStore);
  const slowModeStore = createSlowModeStore(deps.db);
  const slowMode = deps.limits.slowMode ?? createSlowModeState(slowModeStore);
  const roomStore = createRoomStore(deps.db);
  const room = deps.limits.room ?? createRoomSettingsState(roomStore);
  const limits = { ...deps.limits, bans, slowMode, room };
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? createPlazaMetrics(() => hub.size);
  const stopping = deps.stopping ?? (() => false);
  const names = deps.names ?? createNameStore(deps.db);
  const changes = deps.changes ?? createChangeFeed(deps.db);
  const lockdown = createLockdownGate(room, roomStore, names);
  const bearerGuard = {
    failures: limits.authFailures,
    trustProxy: limits.trustProxy,
  };
  const ruleStore = deps.ruleStore ?? createRuleStore(deps.db);
  const rules = deps.rules ?? createRulesState(ruleStore);
  const newcomers = deps.newcomerDelayMinutes
    ? createNewcomerGate(deps.db, deps.newcomerDelayMinutes)
    : null;
  const app = new Hono<AppEnv>();
  app.use(requestId({
    headerName: REQUEST_ID_HEADER,
    limitLength: MAX_REQUEST_ID_LENGTH,
  }));
  app.use(requestIdOnResponse());
  app.use(securityHeaders(deps.embedOrigins));
  app.use(apiCacheControl());
  app.use(allowedMethodsOnly(app));
  app.use(originCheck({
    publicUrl: deps.publicUrl,
    allowedOrigins: deps.allowedOrigins,
    trustProxy: limits.trustProxy,
    logger,
  }));

  app.use(addressBanGuard(bans, limits.trustProxy));

  registerAssetRoutes(app, deps.assets);
  registerStreamRoutes(app, {
    hub,
    names,
    changes,
    limits,
    metrics,
    retryMs: deps.retryMs,
    heartbeatMs: deps.heartbeatMs,
    streamBufferBytes: deps.streamBufferBytes,
    ownEvents: heldEventsOf(ruleStore),
    seeAddress: newcomers?.see,
  });
  const attachments = deps.attachments ?? createAttachmentStore(deps.db);
  registerMessageRoutes(app, {
    store,
    attachments,
    search: createMessageSearch(deps.db),
    names,
    limits,
    stopping,
    metrics,
    slowMode: createSlowModeGate(deps.db, slowMode),
    moderation: {
      rules: createRulesGate(rules, ruleStore),
      held: ruleStore,
      newcomers,
    },
    lockdown,
  });
  registerMessageChangeRoutes(app, {
    store,
    names,
    limits,
    stopping,
    adminToken: deps.adminToken ?? null,
    lockdown,
  });
  registerNameRoutes(app, {
    names,
    limits,
    stopping,
    idleDays: deps.nameIdleDays ?? 0,
  });
  registerEraseRoutes(app, { db: deps.db, store, names, limits });
  registerTypingRoutes(app, deps.db, limits, stopping, metrics, lockdown);
  if (deps.push) {
    registerPushRoutes(app, deps.push, {
      trustProxy: limits.trustProxy,
      stopping,
      bans,
    });
  }
  registerModerationRoutes(app, {
    bans: banStore,
    list: bans,
    adminToken: deps.adminToken ?? null,
    guard: bearerGuard,
    stopping,
  });
  registerReportRoutes(app, {
    reports: deps.reports ?? createReportStore(deps.db),
    limits,
    adminToken: deps.adminToken ?? null,
    guard: bearerGuard,
    stopping,
    metrics,
  });
  registerSlowModeRoutes(app, {
    store: slowModeStore,
    state: slowMode,
    pauseSeconds: deps.slowModePauseSeconds ?? 0,
    adminToken: deps.adminToken ?? null,
    guard: bearerGuard,
    stopping,
  });
  registerBotRoutes(app, {
    bots: createBotStore(deps.db),
    adminToken: deps.adminToken ?? null,
    guard: bearerGuard,
    stopping,
    idleDays: deps.nameIdleDays ?? 0,
  });
  registerAttachmentRoutes(app, {
    store: attachments,
    names,
    settings: deps.uploadSettings ?? {
      maxBytes: DEFAULT_IMAGE_MAX_BYTES,
      maxPixels: DEFAULT_IMAGE_MAX_PIXELS,
      storageCap: DEFAULT_IMAGE_STORAGE_CAP,
    },
    limits,
    uploadsPerAddress: limits.upload ?? noRateLimit,
    uploadsPerName: limits.uploadPerName ?? noRateLimit,
    stopping,
    metrics,
    process: deps.processPicture,
  });
  registerRuleRoutes(app, {
    store: ruleStore,
    state: rules,
    adminToken: deps.adminToken ?? null,
    guard: bearerGuard,
    stopping,
  });
  registerRoomRoutes(app, {
    store: roomStore,
    state: room,
    slowMode,
    adminToken: deps.adminToken ?? null,
    guard: bearerGuard,
    stopping,
  });
  registerExportRoutes(app, {
    db: deps.db,
    adminToken: deps.adminToken ?? null,
    guard: bearerGuard,
  });
  registerHealthRoutes(app, {
    store,
    listener: deps.listener,
    draining: deps.draining ?? (() => false),
  });
  registerMetricsRoutes(app, {
    metrics,
    metricsToken: deps.metricsToken ?? null,
    bearerGuard,
  });

  app.notFound((c) => errorResponse(404, `Nothing at ${c.req.path}.`));
  app.onError((error, c) => {
    if (error instanceof DatabaseUnavailableError) {
      metrics.databaseErrors.inc();
      return unavailableResponse();
    }
    logger.error("request_failed", {
      message: "Unhandled error while serving a request",
      requestId: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      error: describeError(error),
    });
    return errorResponse(500, "Something went wrong on our side.");
  });
  return app;
}

/**
 * hono/request-id sets its header only on responses made through the
 * context (c.json, c.text); the routes here return plain Responses, so the
 * id is put on whatever goes out.
 */
function requestIdOnResponse(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    try {
      c.res.headers.set(REQUEST_ID_HEADER, c.get("requestId"));
    } catch {
      // Immutable headers (a fetched Response): the id is still in the logs.
    }
  };
}

/**
 * Every JSON answer (messages, push routes, errors) gets API_CACHE_CONTROL
 * unless its route chose a policy (GET /push/key); built files and the event
 * stream always set their own, so they are left as they are.
 */
function apiCacheControl(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const type = c.res.headers.get("Content-Type") ?? "";
    if (
      c.res.headers.has("Cache-Control") ||
      !/^application\/json\s*(;|$)/i.test(type)
    ) {
      return;
    }
    try {
      c.res.headers.set("Cache-Control", API_CACHE_CONTROL);
    } catch {
      // Immutable headers (a fetched Response passed on): left as they are.
    }
  };
}
