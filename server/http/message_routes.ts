import type { Hono } from "hono";
import type { AppEnv, AppLimits } from "./app_env.ts";
import { errorResponse } from "./http_error.ts";
import { postMessage } from "./post_message.ts";
import { parseId, parseIntParam } from "./request_params.ts";
import { defaultSearchLimiter, searchAnswer } from "./search_routes.ts";
import { DEFAULT_HISTORY, MAX_PAGE } from "./stream_routes.ts";
import type { MessageStore } from "../store/message_store.ts";
import type { NameStore } from "../store/name_store.ts";
import type { MessageSearch } from "../store/search.ts";
import type { PlazaMetrics } from "../observe/metrics.ts";
import type { SlowModeGate } from "../limits/slow_mode.ts";
import type { AttachmentStore } from "../store/attachment_store.ts";

/** What the /messages routes need. */
export interface MessageRouteDeps {
  store: MessageStore;
  /** Full-text search (GET /messages?q=). */
  search: MessageSearch;
  /** Claimed names: a post under one needs its token. */
  names: NameStore;
  limits: Pick<
    AppLimits,
    "post" | "trustProxy" | "authFailures" | "bans" | "search"
  >;
  /** True once the instance is shutting down (see readFields). */
  stopping: () => boolean;
  metrics: Pick<
    PlazaMetrics,
    "messagesPosted" | "rateLimited" | "databaseErrors"
  >;
  /** Slow mode's check; none when absent. */
  slowMode?: SlowModeGate;
  /** Uploaded pictures a post may carry; none can be attached when absent. */
  attachments?: AttachmentStore;
}

/** Adds GET and POST /messages (scrollback, search, posting) and GET /messages/:id; changes to a message are in message_change_routes.ts. */
export function registerMessageRoutes(
  app: Hono<AppEnv>,
  deps: MessageRouteDeps,
): void {
  const { store } = deps;
  const searching = {
    search: deps.search,
    limiter: deps.limits.search ?? defaultSearchLimiter(),
    trustProxy: deps.limits.trustProxy,
    metrics: deps.metrics,
  };
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
    const q = c.req.query("q");
    if (q !== undefined) return searchAnswer(c, searching, q, limit.value);
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
  app.post(
    "/messages",
    postMessage(
      store,
      deps.names,
      deps.limits,
      deps.stopping,
      deps.metrics,
      deps.slowMode,
      deps.attachments,
    ),
  );

  app.get("/messages/:id", async (c) => {
    const id = parseId(c.req.param("id"), "The message id");
    if (!id.ok) return errorResponse(400, id.error);
    const message = await store.get(id.value);
    if (message === null) {
      return errorResponse(404, `There is no message ${id.value}.`);
    }
    return c.json(message);
  });
}
