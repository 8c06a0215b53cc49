import type { ProxyTrust } from "../config.ts";
import type { RateLimiter } from "../limits/rate_limiter.ts";

/** Hono's per-request variables in this app. */
export type AppEnv = { Variables: { requestId: string } };

/** Per-address and per-instance limits. */
export interface AppLimits {
  post: RateLimiter;
  typing: RateLimiter;
  /** Wrong ADMIN_TOKEN / METRICS_TOKEN attempts per address (see admin_auth.ts). */
  authFailures: RateLimiter;
  streamsPerAddress: number;
  maxStreams: number;
  /** Which peers are proxies (TRUST_PROXY; see client_address.ts). */
  trustProxy: ProxyTrust;
  /** Streams end after about this long (jittered); 0 = never. */
  streamMaxAgeMs: number;
}
