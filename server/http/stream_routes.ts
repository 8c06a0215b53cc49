import type { Hono } from "hono";
import type { AppEnv, AppLimits } from "./app_env.ts";
import { clientAddress } from "./client_address.ts";
import { errorResponse } from "./http_error.ts";
import { parseId, parseIntParam } from "./request_params.ts";
import { createLocalStreamSlots } from "../limits/shared_limits.ts";
import type { Hub } from "../live/hub.ts";
import type { ChangeFeed } from "../store/change_feed.ts";
import type { PlazaMetrics } from "../observe/metrics.ts";
import type { NameStore } from "../store/name_store.ts";
import { refuseBannedName } from "../limits/ban_list.ts";
import { nameKey, validateName } from "../../protocol/names.ts";
import type { PresentName } from "../live/stream_names.ts";
import { bearerToken, checkClaimToken, refuseSecret } from "./name_auth.ts";
import { checkStreamTicket } from "./stream_ticket.ts";
import type { Context } from "hono";
import {
  createSseStream,
  SSE_HEADERS,
  type StreamStart,
} from "../live/sse_stream.ts";

const nothing = () => {};

/** Messages sent to a new stream that gives no starting point. */
export const DEFAULT_HISTORY = 50;
/** Upper bound for `history` (and GET /messages' `limit`). */
export const MAX_PAGE = 200;

/** What GET /stream needs. */
export interface StreamRouteDeps {
  hub: Hub;
  /** The change log a stream replays from its resume point. */
  changes: ChangeFeed;
  /** Claims, for a stream opened under a claimed name. */
  names: NameStore;
  limits: Pick<
    AppLimits,
    | "bans"
    | "authFailures"
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
  /** A claim's held messages, as events for its own streams; none when absent. */
  ownEvents?: (nameId: number) => Promise<Uint8Array | null>;
  /** Notes each stream's address for the newcomer delay; off when absent. */
  seeAddress?: (address: string) => Promise<void>;
}

/**
 * The name a stream is opened under (`?name=`), checked: null when none was
 * given, else the name as shown or the response refusing it. A claimed
 * name needs its token (Authorization: Bearer) or a stream ticket
 * (`&ticket=`, see stream_ticket.ts).
 */
async function streamName(
  c: Context,
  names: NameStore,
  limits: StreamRouteDeps["limits"],
): Promise<(PresentName & { nameId: number | null }) | null | Response> {
  const raw = c.req.query("name");
  if (raw === undefined) return null;
  const name = validateName(raw);
  if (!name.ok) return errorResponse(400, name.error);
  const banned = refuseBannedName(limits.bans, name.value);
  if (banned) return banned;
  const key = nameKey(name.value);
  const token = bearerToken(c);
  const ticket = c.req.query("ticket");
  let claim = await names.byKey(key);
  // Proof for a name the cache thinks free: it may have been claimed on
  // another instance a moment ago.
  if (claim === null && (token !== null || ticket !== undefined)) {
    claim = await names.byKey(key, { fresh: true });
  }
  if (claim === null) return { key, name: name.value, nameId: null };
  const guard = {
    failures: limits.authFailures,
    trustProxy: limits.trustProxy,
  };
  if (token !== null) {
    const refused = checkClaimToken(c, token, claim, guard);
    if (refused) return refused;
  } else if (ticket !== undefined) {
    if (!checkStreamTicket(ticket, claim)) {
      return refuseSecret(
        c,
        guard,
        `That ticket does not open streams as "${claim.name}": it is wrong or expired. Get a new one from POST /names/<name>/stream-ticket.`,
      );
    }
  } else {
    return errorResponse(
      403,
      `"${claim.name}" is a claimed name: open the stream with a ticket (POST /names/<name>/stream-ticket) or Authorization: Bearer <token>, or without a name.`,
    );
  }
  return { key, name: claim.name, nameId: claim.id };
}

/** Adds GET /stream, the live event stream (see sse_stream.ts). */
export function registerStreamRoutes(
  app: Hono<AppEnv>,
  deps: StreamRouteDeps,
): void {
  const { hub, limits, metrics } = deps;
  // Open streams per client address, for STREAMS_PER_ADDRESS.
  const slots = limits.streamSlots ?? createLocalStreamSlots();
  // One for every stream: each open stream keeps what it is given.
  const onDrop = () => metrics.slowClientsDropped.inc();
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
    const named = await streamName(c, deps.names, limits);
    if (named instanceof Response) return named;
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
    await deps.seeAddress?.(address);
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
    // Counted before the stream subscribes, so its first presence event
    // lists its own name.
    const unname = named === null ? nothing : hub.names.add(named);
    const nameId = named?.nameId ?? null;
    const ownEvents = deps.ownEvents;
    const body = createSseStream({
      hub,
      changes: deps.changes,
      start,
      retryMs: deps.retryMs,
      heartbeatMs: deps.heartbeatMs,
      maxBufferedBytes: deps.streamBufferBytes,
      maxAgeMs: limits.streamMaxAgeMs,
      onDrop,
      nameId,
      ownEvents: nameId === null || ownEvents === undefined
        ? undefined
        : () => ownEvents(nameId),
      onClose: () => {
        metrics.streamsClosed.inc();
        unname();
        if (counted) slots.release(address);
      },
    });
    return new Response(body, { headers: SSE_HEADERS });
  });
}
