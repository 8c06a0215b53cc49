import type { Hono } from "hono";
import type { AppEnv, AppLimits } from "./app_env.ts";
import { clientAddress } from "./client_address.ts";
import { errorResponse } from "./http_error.ts";
import { parseId, parseIntParam } from "./request_params.ts";
import { createLocalStreamSlots } from "../limits/shared_limits.ts";
import type { Hub } from "../live/hub.ts";
import type { ChangeFeed } from "../store/change_feed.ts";
import type { PlazaMetrics } from "../observe/metrics.ts";
import {
  createSseStream,
  SSE_HEADERS,
  type StreamStart,
} from "../live/sse_stream.ts";

/** Messages sent to a new stream that gives no starting point. */
export const DEFAULT_HISTORY = 50;
/** Upper bound for `history` (and GET /messages' `limit`). */
export const MAX_PAGE = 200;

/** What GET /stream needs. */
export interface StreamRouteDeps {
  hub: Hub;
  /** The change log a stream replays from its resume point. */
  changes: ChangeFeed;
  limits: Pick<
    AppLimits,
    | "maxStreams"
    | "streamsPerAddress"
    | "streamSlots"
    | "trustProxy"
    | "streamMaxAgeMs"
  >;
  metrics: Pick<
    PlazaMetrics,
    "rateLimited" | "streamsOpened" | "streamsClosed" | "slowClientsDropped"
  >;
  retryMs: number;
  heartbeatMs: number;
  streamBufferBytes: number;
}

/** Adds GET /stream, the live event stream (see sse_stream.ts). */
export function registerStreamRoutes(
  app: Hono<AppEnv>,
  deps: StreamRouteDeps,
): void {
  const { hub, limits, metrics } = deps;
  // Open streams per client address, for STREAMS_PER_ADDRESS.
  const slots = limits.streamSlots ?? createLocalStreamSlots();
  app.get("/stream", async (c) => {
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
    // Off (Infinity): nothing to count, so no transaction per stream, which
    // made opening 10,000 streams ten times slower than without it.
    const counted = Number.isFinite(limits.streamsPerAddress);
    if (counted && !await slots.acquire(address, limits.streamsPerAddress)) {
      metrics.rateLimited.inc({ kind: "streams" });
      return errorResponse(
        429,
        `Too many open streams from your address (at most ${limits.streamsPerAddress}); close some tabs.`,
        { "Retry-After": "10" },
      );
    }
    metrics.streamsOpened.inc();
    const body = createSseStream({
      hub,
      changes: deps.changes,
      start,
      retryMs: deps.retryMs,
      heartbeatMs: deps.heartbeatMs,
      maxBufferedBytes: deps.streamBufferBytes,
      maxAgeMs: limits.streamMaxAgeMs,
      onDrop: () => metrics.slowClientsDropped.inc(),
      onClose: () => {
        metrics.streamsClosed.inc();
        if (counted) slots.release(address);
      },
    });
    return new Response(body, { headers: SSE_HEADERS });
  });
}
