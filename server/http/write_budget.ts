import type { Context } from "hono";
import type { AppLimits } from "./app_env.ts";
import type { BearerGuard } from "./admin_auth.ts";
import { clientAddress } from "./client_address.ts";
import { errorResponse } from "./http_error.ts";

/** The per-address budgets a route that writes with a name token draws on. */
export interface WriteBudget {
  /** Counts wrong tokens per address (see admin_auth.ts). */
  guard: BearerGuard;
  /** Takes one write from the address's posting budget (shared by every instance): null, or the 429 to send. */
  tooFast(c: Context): Promise<Response | null>;
}

/** Name claims, codes, edits and reactions share the posting budget: each one is a write. */
export function writeBudget(
  limits: Pick<AppLimits, "post" | "authFailures" | "trustProxy">,
): WriteBudget {
  return {
    guard: { failures: limits.authFailures, trustProxy: limits.trustProxy },
    async tooFast(c) {
      const decision = await limits.post.take(
        clientAddress(c, limits.trustProxy),
      );
      if (decision.ok) return null;
      return errorResponse(
        429,
        "You are sending requests too fast; wait a moment and try again.",
        { "Retry-After": String(decision.retryAfterSeconds) },
      );
    },
  };
}
