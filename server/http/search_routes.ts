import type { Context } from "hono";
import { CONTROL_CHARACTERS } from "../../protocol/limits.ts";
import type { ProxyTrust } from "../config.ts";
import {
  type AddressLimiter,
  createRateLimiter,
} from "../limits/rate_limiter.ts";
import type { PlazaMetrics } from "../observe/metrics.ts";
import type { MessageSearch } from "../store/search.ts";
import { clientAddress } from "./client_address.ts";
import { errorResponse } from "./http_error.ts";
import { parseId } from "./request_params.ts";

/** Longest search query, in characters: plenty for words, and it bounds the query's work. */
export const MAX_SEARCH_LENGTH = 200;
/**
 * Searches per client address at once, and per second after. A word found
 * in most messages costs the database ~20–30 ms per 100,000 messages (a
 * scrollback page ~1 ms), so searches get a bucket of their own; a person
 * typing (the client waits for a pause) stays well inside it.
 */
export const SEARCH_BURST = 10;
/** See SEARCH_BURST. */
export const SEARCH_PER_SECOND = 1;

/** The per-instance bucket used when AppLimits gives none. */
export function defaultSearchLimiter(): AddressLimiter {
  return createRateLimiter({
    capacity: SEARCH_BURST,
    perSecond: SEARCH_PER_SECOND,
  });
}

/** What a search needs besides the query. */
export interface SearchDeps {
  search: MessageSearch;
  limiter: AddressLimiter;
  trustProxy: ProxyTrust;
  metrics: Pick<PlazaMetrics, "rateLimited">;
}

/**
 * Answers GET /messages?q=: the newest matches first, older ones with
 * `before=<id>` (the last id of the previous page). `after` makes no sense
 * for a search. Bad input is a 400; a query that matches nothing (stop words
 * alone, punctuation) is an empty page.
 */
export async function searchAnswer(
  c: Context,
  deps: SearchDeps,
  q: string,
  limit: number,
): Promise<Response> {
  const beforeRaw = c.req.query("before");
  const afterRaw = c.req.query("after");
  const query = q.trim();
  if (!query) return errorResponse(400, '"q" must not be empty.');
  if ([...query].length > MAX_SEARCH_LENGTH) {
    return errorResponse(
      400,
      `"q" can be at most ${MAX_SEARCH_LENGTH} characters.`,
    );
  }
  // Postgres refuses NUL in text outright; the rest have no place in words.
  if (CONTROL_CHARACTERS.test(query)) {
    return errorResponse(400, '"q" cannot contain control characters.');
  }
  if (afterRaw !== undefined) {
    return errorResponse(400, 'A search pages with "before", not "after".');
  }
  let before: number | null = null;
  if (beforeRaw !== undefined) {
    const parsed = parseId(beforeRaw, "before");
    if (!parsed.ok) return errorResponse(400, parsed.error);
    before = parsed.value;
  }
  // Counted only once the request is a search the database will run.
  const decision = await deps.limiter.take(
    clientAddress(c, deps.trustProxy),
  );
  if (!decision.ok) {
    deps.metrics.rateLimited.inc({ kind: "search" });
    return errorResponse(
      429,
      "Too many searches at once; wait a moment and try again.",
      { "Retry-After": String(decision.retryAfterSeconds) },
    );
  }
  return Response.json(await deps.search.search(query, before, limit));
}
