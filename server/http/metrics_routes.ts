import type { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import { type BearerGuard, checkBearer } from "./admin_auth.ts";
import { METRICS_CONTENT_TYPE, type PlazaMetrics } from "../observe/metrics.ts";

/** What GET /metrics needs. */
export interface MetricsRouteDeps {
  metrics: Pick<PlazaMetrics, "registry">;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken: string | null;
  /** Counts wrong tokens per address (see admin_auth.ts). */
  bearerGuard: BearerGuard;
}

/** Adds GET /metrics, the Prometheus text exposition. */
export function registerMetricsRoutes(
  app: Hono<AppEnv>,
  deps: MetricsRouteDeps,
): void {
  const { metricsToken } = deps;
  app.get("/metrics", (c) => {
    if (metricsToken !== null) {
      const refused = checkBearer(
        c,
        metricsToken,
        "metrics",
        "METRICS_TOKEN",
        deps.bearerGuard,
      );
      if (refused) return refused;
    }
    return new Response(deps.metrics.registry.render(), {
      headers: {
        "Content-Type": METRICS_CONTENT_TYPE,
        "Cache-Control": "no-store",
      },
    });
  });
}
