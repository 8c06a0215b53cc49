/**
 * The push endpoints (the contract the client's "Notify me" codes against):
 * GET /push/key, POST, PATCH (settings) and DELETE /push/subscriptions,
 * POST /push/visibility.
 * Bodies are JSON; bad input gets a 4xx with a JSON error like every other
 * route, never a 500.
 */
import type { Context, Hono } from "hono";
import type { ProxyTrust } from "../config.ts";
import type { AppEnv } from "../http/app_env.ts";
import { clientAddress } from "../http/client_address.ts";
import { errorResponse } from "../http/http_error.ts";
import type { EndpointPolicy } from "./endpoint.ts";
import {
  type PushSubscriptionStore,
  validateEndpointBody,
  validateSettingsInput,
  validateSubscriptionInput,
} from "./subscriptions.ts";
import { validateVisibilityInput, type VisibilityStore } from "./visibility.ts";
import type { RateLimiter } from "../limits/rate_limiter.ts";
import { type BanList, refuseBannedName } from "../limits/ban_list.ts";
import { readFields } from "../http/request_fields.ts";

/** Visibility reports per address at once: a person with many tabs, or many people behind one NAT. */
export const VISIBILITY_BURST = 30;
/** Visibility reports per address and second, sustained (each visible tab sends one per 20 s). */
export const VISIBILITY_PER_SECOND = 2;

/** What the push routes are built from (AppDependencies.push). */
export interface PushRoutes {
  /** The VAPID public key, base64url (GET /push/key). */
  publicKey: string;
  subscriptions: PushSubscriptionStore;
  visibility: VisibilityStore;
  /** Per address, for POST, PATCH and DELETE /push/subscriptions (like POST /messages). */
  limiter: RateLimiter;
  /** Per address, for POST /push/visibility. */
  visibilityLimiter: RateLimiter;
  /** Which endpoints may be stored (PUSH_SERVICE_HOSTS, PUSH_ALLOW_INSECURE_ENDPOINTS). */
  endpoints: EndpointPolicy;
}

/** Settings the push routes share with the rest of the app. */
export interface PushRouteContext {
  trustProxy: ProxyTrust;
  /** True once the instance is shutting down (see readFields). */
  stopping: () => boolean;
  /** Bans in force: a banned name cannot subscribe. */
  bans?: BanList;
}

/** Adds the push routes to `app`. */
export function registerPushRoutes(
  app: Hono<AppEnv>,
  push: PushRoutes,
  shared: PushRouteContext,
): void {
  const limited = (c: Context, limiter: RateLimiter): Response | null => {
    const decision = limiter.take(clientAddress(c, shared.trustProxy));
    if (decision.ok) return null;
    return errorResponse(
      429,
      "Too many push requests from your address; wait a moment and try again.",
      { "Retry-After": String(decision.retryAfterSeconds) },
    );
  };
  // The subscription is a nested object: a form body cannot carry it, so
  // JSON only, unlike POST /messages.
  const readJson = async (
    c: Context,
  ): Promise<
    { ok: true; value: unknown } | { ok: false; response: Response }
  > => {
    const mediaType = (c.req.header("content-type") ?? "").split(";")[0]
      .trim().toLowerCase();
    if (mediaType !== "application/json") {
      return {
        ok: false,
        response: errorResponse(415, "Send the body as application/json."),
      };
    }
    return await readFields(c, [], shared.stopping);
  };

  app.get("/push/key", () =>
    Response.json({ publicKey: push.publicKey }, {
      // Fixed for the deployment, but an operator may replace it.
      headers: { "Cache-Control": "no-cache" },
    }));

  app.post("/push/subscriptions", async (c) => {
    const refused = limited(c, push.limiter);
    if (refused) return refused;
    const body = await readJson(c);
    if (!body.ok) return body.response;
    const input = validateSubscriptionInput(
      body.value,
      push.endpoints,
    );
    if (!input.ok) return errorResponse(400, input.error);
    const banned = refuseBannedName(shared.bans, input.value.name);
    if (banned) return banned;
    const { created } = await push.subscriptions.save(input.value);
    return c.json({ ok: true }, created ? 201 : 200);
  });
  app.delete("/push/subscriptions", async (c) => {
    const refused = limited(c, push.limiter);
    if (refused) return refused;
    const body = await readJson(c);
    if (!body.ok) return body.response;
    const endpoint = validateEndpointBody(body.value);
    if (!endpoint.ok) return errorResponse(400, endpoint.error);
    if (!(await push.subscriptions.remove(endpoint.value))) {
      return errorResponse(404, "There is no subscription with that endpoint.");
    }
    return new Response(null, { status: 204 });
  });

  app.patch("/push/subscriptions", async (c) => {
    const refused = limited(c, push.limiter);
    if (refused) return refused;
    const body = await readJson(c);
    if (!body.ok) return body.response;
    const input = validateSettingsInput(body.value);
    if (!input.ok) return errorResponse(400, input.error);
    const settings = await push.subscriptions.configure(input.value);
    if (settings === null) {
      return errorResponse(404, "There is no subscription with that endpoint.");
    }
    return c.json(settings);
  });

  app.post("/push/visibility", async (c) => {
    const refused = limited(c, push.visibilityLimiter);
    if (refused) return refused;
    const body = await readJson(c);
    if (!body.ok) return body.response;
    const input = validateVisibilityInput(body.value);
    if (!input.ok) return errorResponse(400, input.error);
    if (!(await push.visibility.set(input.value))) {
      // The client should subscribe again (or stop reporting).
      return errorResponse(404, "There is no subscription with that endpoint.");
    }
    return new Response(null, { status: 204 });
  });
}
