import { CONTROL_CHARACTERS } from "../../protocol/limits.ts";
import type { MessageSearch } from "../store/search.ts";
import { errorResponse } from "./http_error.ts";
import { parseId } from "./request_params.ts";

/** Longest search query, in characters: plenty for words, and it bounds the query's work. */
export const MAX_SEARCH_LENGTH = 200;

/**
 * Answers GET /messages?q=: the newest matches first, older ones with
 * `before=<id>` (the last id of the previous page). `after` makes no sense
 * for a search. Bad input is a 400; a query that matches nothing (stop words
 * alone, punctuation) is an empty page.
 */
export async function searchAnswer(
  search: MessageSearch,
  q: string,
  beforeRaw: string | undefined,
  afterRaw: string | undefined,
  limit: number,
): Promise<Response> {
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
  return Response.json(await search.search(query, before, limit));
}
