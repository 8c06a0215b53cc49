import type { MiddlewareHandler } from "hono";
import { errorResponse } from "./http_error.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses state-changing browser requests from other sites (403). Browsers
 * always send Origin on cross-site POSTs; requests without one (curl,
 * scripts) are not a cross-site attack and pass. The app's own origin is
 * recognised by host (scheme aside, as a TLS proxy may sit in front).
 */
export function originCheck(
  allowedOrigins: readonly string[],
): MiddlewareHandler {
  const allowed = new Set(allowedOrigins);
  return async (c, next) => {
    const origin = c.req.header("origin");
    if (SAFE_METHODS.has(c.req.method) || origin === undefined) {
      return await next();
    }
    let host: string | null = null;
    try {
      host = new URL(origin).host;
    } catch {
      // "null" (sandboxed frames, file:) and junk are never the app's own.
    }
    const own = host !== null && host === c.req.header("host");
    if (own || allowed.has(origin)) return await next();
    return errorResponse(
      403,
      `Requests from ${
        origin.slice(0, 100)
      } are not allowed; the server's operator can add it to ALLOWED_ORIGINS.`,
    );
  };
}
