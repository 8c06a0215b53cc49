import type { ProxyTrust } from "../config.ts";
import type { AddressLimiter, RateLimiter } from "../limits/rate_limiter.ts";
import type { StreamSlots } from "../limits/shared_limits.ts";
import type { BanList } from "../limits/ban_list.ts";
import type { SlowModeState } from "../limits/slow_mode.ts";

/** Hono's per-request variables in this app. */
export type AppEnv = { Variables: { requestId: string } };

/** Per-address and per-instance limits. */
export interface AppLimits {
  post: AddressLimiter;
  typing: AddressLimiter;
  /** POST /reports per address (REPORT_RATE). */
  report: AddressLimiter;
  /** POST /attachments per client address (UPLOAD_RATE); none when absent. */
  upload?: AddressLimiter;
  /** POST /attachments per name (UPLOAD_RATE); none when absent. */
  uploadPerName?: AddressLimiter;
  /** Searches per client address; a per-instance bucket of SEARCH_BURST (search_routes.ts) when absent. */
  search?: AddressLimiter;
  /** Wrong ADMIN_TOKEN / METRICS_TOKEN attempts per address (see admin_auth.ts). */
  authFailures: RateLimiter;
  streamsPerAddress: number;
  /** Where streams per address are counted; this instance's memory when absent. */
  streamSlots?: StreamSlots;
  maxStreams: number;
  /** Bans in force; none when absent. */
  bans?: BanList;
  /** The room's slow mode, cached; one over the app's database (refreshed only by its own routes) when absent. */
  slowMode?: SlowModeState;
  /** Which peers are proxies (TRUST_PROXY; see client_address.ts). */
  trustProxy: ProxyTrust;
  /** Streams end after about this long (jittered); 0 = never. */
  streamMaxAgeMs: number;
}
