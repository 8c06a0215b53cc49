import type { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import type { MessageStore } from "../store/message_store.ts";

/** What the health routes look at. */
export interface HealthRouteDeps {
  store: Pick<MessageStore, "ping">;
  /** Whether this instance's LISTEN session is up. */
  listener: { readonly live: boolean };
  /** True once the instance is stopping (see Plaza.shutdown). */
  draining: () => boolean;
}

/**
 * Adds GET /healthz and GET /readyz. Ready means able to do the job: the
 * database answers and this instance's LISTEN session is live. /healthz
 * keeps that meaning (its contract since the first release); /readyz is the
 * name orchestrators expect for it. A draining instance is not ready
 * whatever its parts say: it is about to go.
 */
export function registerHealthRoutes(
  app: Hono<AppEnv>,
  deps: HealthRouteDeps,
): void {
  const readiness = async () => {
    if (deps.draining()) {
      return Response.json({ ok: false, draining: true }, {
        status: 503,
        headers: { "Cache-Control": "no-store" },
      });
    }
    let database = true;
    try {
      await deps.store.ping();
    } catch {
      database = false;
    }
    const listener = deps.listener.live;
    const ok = database && listener;
    return Response.json({ ok, database, listener }, {
      status: ok ? 200 : 503,
      headers: { "Cache-Control": "no-store" },
    });
  };
  app.get("/healthz", readiness);
  app.get("/readyz", readiness);
}
