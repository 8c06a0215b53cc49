/** What a fuzz case is: the request to send and what its answer may be. */
import { clip, preview } from "./bytes.ts";
import type { Bytes } from "./bytes.ts";

/** The class of request a case belongs to; the summary counts by it. */
export type Kind =
  | "valid-post"
  | "valid-get"
  | "json-garbage"
  | "invalid-utf8"
  | "form-odd"
  | "content-type"
  | "oversized-body"
  | "odd-method"
  | "odd-path"
  | "messages-query"
  | "stream-query"
  | "big-headers"
  | "truncated-body"
  | "raw-junk"
  | "typing"
  | "origin"
  | "admin"
  | "moderation"
  | "report"
  | "hostile-text"
  | "form-bad-bytes"
  | "attachment";

/** Which endpoint a case targets, when it is a well-formed request to one. */
export type Route =
  | "POST /messages"
  | "POST /typing"
  | "GET /messages"
  | "GET /messages?q="
  | "GET /messages/:id"
  | "GET /stream"
  | "GET /healthz"
  | "DELETE /messages/:id"
  | "POST /moderation/bans"
  | "GET /moderation/bans"
  | "DELETE /moderation/bans/:id"
  | "POST /reports"
  | "GET /moderation/reports"
  | "DELETE /moderation/reports/:id"
  | "GET /moderation/slow-mode"
  | "PUT /moderation/slow-mode"
  | "DELETE /moderation/slow-mode"
  | "POST /moderation/bots"
  | "GET /moderation/bots"
  | "DELETE /moderation/bots/:name"
  | "POST /attachments"
  | "GET /attachments/:id";

/** What a POST should store, as validateMessageInput normalises it. */
interface ExpectedPost {
  author: string;
  text: string;
  clientId: string | null;
}

/** What every case carries: its class, route and the answers the oracle allows. */
export interface CaseBase {
  kind: Kind;
  route?: Route;
  /** Acceptable statuses from the app; undefined: any non-5xx. */
  expect?: readonly number[];
  /** The server may close without answering (it answers a big upload early, or the request is broken). */
  mayDrop?: boolean;
  post?: ExpectedPost;
  /** A DELETE with the right token of this plain id: a 204 removes it. */
  deletes?: number;
}

/** A case sent with fetch. */
export interface FetchCase extends CaseBase {
  via: "fetch";
  method: string;
  /** Path and query, as given to the URL parser. */
  target: string;
  headers: [string, string][];
  body?: Bytes;
  /** Chunk sizes: send the body as a stream, i.e. Transfer-Encoding: chunked. */
  chunks?: number[];
}

/** A case sent as raw bytes on its own TCP connection. */
export interface RawCase extends CaseBase {
  via: "raw";
  bytes: Bytes;
  /**
   * "read": read the answer; "half-close": shut our sending side (the server
   * sees the end of the request), then read; "close": close right after
   * sending, no answer read.
   */
  mode: "read" | "half-close" | "close";
  /** A HEAD request: the answer has headers only. */
  head?: boolean;
}

/** One fuzz case. */
export type Case = FetchCase | RawCase;

/** What generators need to know about the instance under test. */
export interface GenContext {
  /** The Host header the server sees: 127.0.0.1:port. */
  host: string;
  /** A few clientIds that several cases reuse, for the idempotency path. */
  pool: readonly string[];
  /** The instance's ADMIN_TOKEN, so that some DELETEs are allowed. */
  adminToken: string;
}

/** The request of a case as one readable line, for reports and replays. */
export function describeCase(c: Case): string {
  if (c.via === "raw") {
    return `raw socket (${c.mode}): ${preview(c.bytes, 400)}`;
  }
  const headers = c.headers.map(([k, v]) => `${k}: ${clip(v, 80)}`).join(
    "; ",
  );
  const body = c.body === undefined
    ? ""
    : ` body${c.chunks ? " (chunked)" : ""}: ${preview(c.body)}`;
  return `fetch ${c.method} ${clip(c.target, 200)} [${headers}]${body}`;
}
