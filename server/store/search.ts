import type { Database } from "../../db/database.ts";
import type { Message } from "../../protocol/message.ts";
import { guard } from "./db_errors.ts";

/**
 * The text search configuration: the one db/migrations/011_search.sql
 * indexes with. The query must name the same one for the index to be used.
 */
export const SEARCH_CONFIG = "english";

// "No upper bound" for id < $2: one statement, one plan, for both cases.
const NO_BEFORE = "9223372036854775807";

/** Full-text search over the room's messages; may throw DatabaseUnavailableError. */
export interface MessageSearch {
  /**
   * The newest `limit` messages with id < `beforeId` (all when null) whose
   * text matches `query` (websearch syntax: words, "phrases", or, -not),
   * newest first. A query of stop words alone matches nothing.
   */
  search(
    query: string,
    beforeId: number | null,
    limit: number,
  ): Promise<{ messages: Message[]; hasMore: boolean }>;
}

/** A MessageSearch over `db`; rows are rendered by message_json like every other read. */
export function createMessageSearch(db: Database): MessageSearch {
  return {
    search: (query, beforeId, limit) =>
      guard(async () => {
        // websearch_to_tsquery never raises a syntax error: any string is a
        // query. One extra row tells whether older matches remain.
        // Rendered outside the subquery: a common word matches thousands
        // of rows, sorted before the limit, and message_json for each of
        // them made such a search ten times slower.
        const rows = await db.query<{ m: Message }>(
          `select message_json(found) as m from (
             select * from messages
             where to_tsvector('${SEARCH_CONFIG}'::regconfig, text)
               @@ websearch_to_tsquery('${SEARCH_CONFIG}'::regconfig, $1)
               and id < $2
             order by id desc limit $3
           ) found order by id desc`,
          [query, beforeId === null ? NO_BEFORE : String(beforeId), limit + 1],
        );
        return {
          messages: rows.slice(0, limit).map((r) => r.m),
          hasMore: rows.length > limit,
        };
      }),
  };
}
