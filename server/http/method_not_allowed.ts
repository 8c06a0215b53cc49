import type { Hono, MiddlewareHandler } from "hono";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { AppEnv } from "./app_env.ts";
import { errorResponse } from "./http_error.ts";

// Allow lists methods in this order, whatever order the routes were added in.
const ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const rank = (method: string) => {
  const at = ORDER.indexOf(method);
  return at === -1 ? ORDER.length : at;
};

/**
 * Answers a request whose path has routes but none for its method with 405
 * and `Allow` naming the methods that do have one (HEAD wherever GET is),
 * instead of a 404 claiming nothing is there. Hono's middleware derives the
 * methods from `app`'s routes; this gives its answer the JSON error body of
 * every other 4xx.
 */
export function allowedMethodsOnly(
  app: Hono<AppEnv>,
): MiddlewareHandler<AppEnv> {
  return methodNotAllowed<AppEnv>({
    app,
    onMethodNotAllowed: (_c, methods) => {
      const allow = [...methods].sort((a, b) => rank(a) - rank(b)).join(", ");
      return errorResponse(405, `This endpoint accepts only ${allow}.`, {
        Allow: allow,
      });
    },
  });
}
