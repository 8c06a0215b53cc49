/** How one query is sent. */
export interface QueryOptions {
  /**
   * Keep the statement prepared on its connection, so that after the first
   * run it takes one round trip instead of two (parse and describe, then
   * execute). Only for texts from a small fixed set, such as the message
   * INSERT: every distinct text stays prepared for the connection's life.
   */
  prepare?: boolean;
}

/** Runs parameterised SQL; rows come back as plain objects. */
export interface Queryable {
  query<T = Record<string, unknown>>(
    text: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(text: string): Promise<void>;
}

/** A dedicated LISTEN session; `ping` proves it still answers. */
export interface ListenSession {
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Callbacks for a LISTEN session. */
export interface ListenHandlers {
  onNotify(channel: string, payload: string): void;
  /** The session's connection was lost; the caller opens a new one. */
  onClose(error: Error): void;
}

/** The small slice of Postgres that Plaza needs, served by postgres.js or PGlite. */
export interface Database extends Queryable {
  /** Which engine is behind it, for logs and health output. */
  readonly kind: "postgres" | "pglite";
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Opens one session LISTENing on `channels`; resolves once they are in effect. */
  listen(channels: string[], handlers: ListenHandlers): Promise<ListenSession>;
  close(): Promise<void>;
}

/** The database could not be reached; callers answer 503 and retry later. */
export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
  constructor(cause: unknown) {
    super(
      `Database unavailable: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
  }
}

/** Error codes of a TLS connection the database server refused, or whose certificate failed the check. */
export const TLS_FAILURE_CODES: readonly string[] = [
  "SSL_NOT_SUPPORTED",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
];

// Connection-level failures, as reported by postgres.js and by the server
// (SQLSTATE class 08 connection exception, 57P0x shutdown/cannot connect,
// 53300 too many connections).
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01",
  "57P02",
  "57P03",
  "53300",
  // The server refused TLS, or its certificate failed the check (expired,
  // replaced by one the trust store does not know): nothing a retried query
  // fixes, but no fault of the request either.
  ...TLS_FAILURE_CODES,
]);

/** True when `error` means the database is unreachable rather than the query wrong. */
export function isUnavailableError(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") {
    // Deno's socket errors carry no code, only a class name.
    return error.name === "ConnectionRefused" ||
      error.name === "ConnectionReset" || error.name === "BrokenPipe";
  }
  return UNAVAILABLE_CODES.has(code) || code.startsWith("08");
}
