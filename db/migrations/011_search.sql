-- Full-text search over message text (GET /messages?q=, server/store/search.ts).
--
-- An expression index rather than a stored tsvector column: nothing is added
-- to the row or to the INSERT statement, and PGlite supports it too. The
-- query must spell the same expression, configuration included, for the
-- planner to use the index: the 'english' below and SEARCH_CONFIG in
-- server/store/search.ts go together. English stemming ("running" finds
-- "run", "runs") costs words of other languages nothing but their stop
-- words: the same stemmer runs over the text and over the query, so a name
-- or a foreign word still matches itself.
--
-- GIN's fastupdate (on by default) queues new entries in a pending list that
-- VACUUM or a search merges later, which keeps the cost on the post path
-- small (docs/operating.md has the measurement).
create index messages_text_search on messages
  using gin (to_tsvector('english'::regconfig, text));
