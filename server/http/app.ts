import { Hono } from "hono";
import { type ClientAssets, ROOT_FILES } from "./client_assets.ts";
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
import { checkBearer } from "./admin_auth.ts";
import { registerNameRoutes } from "./name_routes.ts";
import { registerMessageChangeRoutes } from "./message_change_routes.ts";
import { describeError, type Logger, silentLogger } from "../observe/logger.ts";
import {
  createPlazaMetrics,
  METRICS_CONTENT_TYPE,
  type PlazaMetrics,
} from "../observe/metrics.ts";
import { clientAddress } from "./client_address.ts";
import { originCheck } from "./origin_check.ts";
import { postMessage } from "./post_message.ts";
import { postTyping } from "./post_typing.ts";
import { type PushRoutes, registerPushRoutes } from "../push/routes.ts";
import type { AppEnv, AppLimits } from "./app_env.ts";
import { parseId, parseIntParam } from "./request_params.ts";
import { securityHeaders } from "./security_headers.ts";
import {
  createSseStream,
  SSE_HEADERS,
  type StreamStart,
} from "../live/sse_stream.ts";

/** What the HTTP app is built from; tests pass their own. */
export interface AppDependencies {
  store: MessageStore;
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
  /** With a token, DELETE /messages/:id exists for moderators. */
  adminToken?: string | null;
  /** True once the instance is shutting down (tells a cut-off upload from a client's fault). */
  stopping?: () => boolean;
  /** Where request errors are logged; silent when absent (tests). */
  logger?: Logger;
  /** Counters shown at /metrics; a fresh set reading this hub when absent. */
  metrics?: PlazaMetrics;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string | null;
  /** Web Push routes (/push/…); absent, they do not exist. */
  push?: PushRoutes;
  /** Claimed names; over `db` when absent. */
  names?: NameStore;
  /** The change log streams replay; over `db` when absent. */
  changes?: ChangeFeed;
  /** NAME_IDLE_DAYS (0 = names are never released for idleness; the default). */
  nameIdleDays?: number;
}

/** Header carrying the request id, taken from a proxy or made up here. */
export const REQUEST_ID_HEADER = "X-Request-Id";

// A proxy's id is kept only if it is short and harmless in a log line.
const GOOD_REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

/** Messages sent to a new stream that gives no starting point. */
export const DEFAULT_HISTORY = 50;
/** Upper bound for `history` and `limit`. */
export const MAX_PAGE = 200;

function methodNotAllowed(allow: string) {
  return () =>
    errorResponse(405, `This endpoint accepts only ${allow}.`, {
      Allow: allow,
    });
}

/** Builds the Hono app: the HTML client, POST /messages, GET /stream, scrollback and health. */
export function createApp(deps: AppDependencies): Hono<AppEnv> {
  const { store, hub, limits } = deps;
  const names = deps.names ?? createNameStore(deps.db);
  const changes = deps.changes ?? createChangeFeed(deps.db);
  const bearerGuard = {
    failures: limits.authFailures,
    trustProxy: limits.trustProxy,
  };
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? createPlazaMetrics(() => hub.size);
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    const given = c.req.header(REQUEST_ID_HEADER);
    const id = given !== undefined && GOOD_REQUEST_ID.test(given)
      ? given
      : crypto.randomUUID();
    c.set("requestId", id);
    await next();
    try {
      c.res.headers.set(REQUEST_ID_HEADER, id);
    } catch {
      // Immutable headers (a fetched Response): the id is still in the logs.
    }
  });
  // Open streams per client address, for STREAMS_PER_ADDRESS.
  const streamsByAddress = new Map<string, number>();
  app.use("*", securityHeaders());
  // Every JSON answer (messages, push routes, errors) gets API_CACHE_CONTROL
  // unless its route chose a policy (GET /push/key); built files and the
  // event stream always set their own, so they are left as they are.
  app.use("*", async (c, next) => {
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
  });
  app.use("*", originCheck(deps.allowedOrigins ?? []));

  app.get("/", () => {
    if (deps.assets === null) {
      return new Response(
        "Plaza's client is not built yet: run `deno task build`, then reload.\n",
        {
          status: 503,
          headers: { "Content-Type": "text/plain; charset=utf-8" },
        },
      );
    }
    return new Response(deps.assets.index.body, {
      headers: deps.assets.index.headers,
    });
  });
  app.all("/", methodNotAllowed("GET, HEAD"));

  const serveAsset = (c: { req: { path: string } }) => {
    const asset = deps.assets?.files.get(c.req.path);
    if (!asset) return errorResponse(404, "No such asset.");
    return new Response(asset.body, { headers: asset.headers });
  };
  app.get("/assets/:file", serveAsset);
  // Any other method on a file is a 405 (saying what is allowed), not a 404
  // claiming the file does not exist.
  app.all("/assets/:file", methodNotAllowed("GET, HEAD"));
  // The service worker and the web app manifest (see client_assets.ts).
  for (const path of ROOT_FILES) {
    app.get(path, serveAsset);
    app.all(path, methodNotAllowed("GET, HEAD"));
  }

  app.get("/stream", (c) => {
    // The header (sent by EventSource on reconnect) wins over ?since=.
    const resumeFrom = c.req.header("last-event-id") ?? c.req.query("since");
    let start: StreamStart;
    if (resumeFrom !== undefined) {
      const since = parseId(
        resumeFrom,
        c.req.header("last-event-id") !== undefined ? "Last-Event-ID" : "since",
      );
      if (!since.ok) return errorResponse(400, since.error);
      start = { since: since.value };
    } else {
      const history = parseIntParam(
        c.req.query("history"),
        "history",
        0,
        MAX_PAGE,
        DEFAULT_HISTORY,
      );
      if (!history.ok) return errorResponse(400, history.error);
      start = { history: history.value };
    }
    // Hono answers HEAD with the GET handler and drops the body unread, which
    // would leave a subscriber open for good: send the headers alone.
    if (c.req.raw.method === "HEAD") {
      return new Response(null, { headers: SSE_HEADERS });
    }
    if (hub.size >= limits.maxStreams) {
      metrics.rateLimited.inc({ kind: "streams" });
      return errorResponse(
        503,
        "This server has as many open streams as it can hold; try again shortly.",
        { "Retry-After": "10" },
      );
    }
    const address = clientAddress(c, limits.trustProxy);
    const open = streamsByAddress.get(address) ?? 0;
    if (open >= limits.streamsPerAddress) {
      metrics.rateLimited.inc({ kind: "streams" });
      return errorResponse(
        429,
        `Too many open streams from your address (at most ${limits.streamsPerAddress}); close some tabs.`,
        { "Retry-After": "10" },
      );
    }
    streamsByAddress.set(address, open + 1);
    metrics.streamsOpened.inc();
    const body = createSseStream({
      hub,
      changes,
      start,
      retryMs: deps.retryMs,
      heartbeatMs: deps.heartbeatMs,
      maxBufferedBytes: deps.streamBufferBytes,
      maxAgeMs: limits.streamMaxAgeMs,
      onDrop: () => metrics.slowClientsDropped.inc(),
      onClose: () => {
        metrics.streamsClosed.inc();
        const n = (streamsByAddress.get(address) ?? 1) - 1;
        if (n > 0) streamsByAddress.set(address, n);
        else streamsByAddress.delete(address);
      },
    });
    return new Response(body, { headers: SSE_HEADERS });
  });
  app.all("/stream", methodNotAllowed("GET, HEAD"));

  const stopping = deps.stopping ?? (() => false);
  app.post("/messages", postMessage(store, names, limits, stopping, metrics));
  app.get("/messages", async (c) => {
    const limit = parseIntParam(
      c.req.query("limit"),
      "limit",
      1,
      MAX_PAGE,
      DEFAULT_HISTORY,
    );
    if (!limit.ok) return errorResponse(400, limit.error);
    const beforeRaw = c.req.query("before");
    const afterRaw = c.req.query("after");
    if (beforeRaw !== undefined && afterRaw !== undefined) {
      return errorResponse(400, 'Give "before" or "after", not both.');
    }
    if (afterRaw !== undefined) {
      // Forward paging, for a client coming back down from scrollback.
      const after = parseId(afterRaw, "after");
      if (!after.ok) return errorResponse(400, after.error);
      const page = await store.after(after.value, limit.value + 1);
      return c.json({
        messages: page.slice(0, limit.value),
        hasMore: page.length > limit.value,
      });
    }
    let before: number | null = null;
    if (beforeRaw !== undefined) {
      const parsed = parseId(beforeRaw, "before");
      if (!parsed.ok) return errorResponse(400, parsed.error);
      before = parsed.value;
    }
    return c.json(await store.before(before, limit.value));
  });
  app.all("/messages", methodNotAllowed("GET, HEAD, POST"));

  app.get("/messages/:id", async (c) => {
    const id = parseId(c.req.param("id"), "The message id");
    if (!id.ok) return errorResponse(400, id.error);
    const message = await store.get(id.value);
    if (message === null) {
      return errorResponse(404, `There is no message ${id.value}.`);
    }
    return c.json(message);
  });
  registerMessageChangeRoutes(app, {
    store,
    names,
    limits,
    stopping,
    adminToken: deps.adminToken ?? null,
  });
  app.all("/messages/:id", methodNotAllowed("GET, HEAD, PATCH, DELETE"));
  registerNameRoutes(app, {
    names,
    limits,
    stopping,
    idleDays: deps.nameIdleDays ?? 0,
  });

  app.post("/typing", postTyping(deps.db, limits, stopping, metrics));
  app.all("/typing", methodNotAllowed("POST"));

  if (deps.push) {
    registerPushRoutes(app, deps.push, {
      trustProxy: limits.trustProxy,
      stopping,
    });
  }

  // Ready means able to do the job: the database answers and this
  // instance's LISTEN session is live. /healthz keeps that meaning (its
  // contract since the first release); /readyz is the name orchestrators
  // expect for it.
  const readiness = async () => {
    let database = true;
    try {
      await store.ping();
    } catch {
      database = false;
    }
    const listener = deps.listener.live;
    const ok = database && listener;
    return Response.json({ ok, database, listener }, {
      status: ok ? 200 : 503,
      headers: { "Cache-Control": "no-store" },
    });
  };
  app.get("/healthz", readiness);
  app.all("/healthz", methodNotAllowed("GET, HEAD"));
  app.get("/readyz", readiness);
  app.all("/readyz", methodNotAllowed("GET, HEAD"));

  const metricsToken = deps.metricsToken ?? null;
  app.get("/metrics", (c) => {
    if (metricsToken !== null) {
      const refused = checkBearer(
        c,
        metricsToken,
        "metrics",
        "METRICS_TOKEN",
        bearerGuard,
      );
      if (refused) return refused;
    }
    return new Response(metrics.registry.render(), {
      headers: {
        "Content-Type": METRICS_CONTENT_TYPE,
        "Cache-Control": "no-store",
      },
    });
  });
  app.all("/metrics", methodNotAllowed("GET, HEAD"));

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
