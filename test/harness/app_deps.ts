import { TRUST_NO_PROXY } from "../../server/config.ts";
import type { AppDependencies } from "../../server/http/app.ts";
import type { AppLimits } from "../../server/http/app_env.ts";
import type { Database } from "../../db/database.ts";
import type { Hub } from "../../server/live/hub.ts";
import { createMessageStore } from "../../server/store/message_store.ts";
import { createRateLimiter } from "../../server/limits/rate_limiter.ts";

/** Limits that stay out of the way, except where a test sets its own. */
export function testLimits(overrides: Partial<AppLimits> = {}): AppLimits {
  return {
    post: createRateLimiter({ capacity: 1000, perSecond: 1000 }),
    typing: createRateLimiter({ capacity: 3, perSecond: 0.5 }),
    report: createRateLimiter({ capacity: 1000, perSecond: 1000 }),
    authFailures: createRateLimiter({ capacity: 1000, perSecond: 1000 }),
    streamsPerAddress: 100,
    maxStreams: 1000,
    trustProxy: TRUST_NO_PROXY,
    streamMaxAgeMs: 0,
    ...overrides,
  };
}

/** What createApp needs in a test over `db` and `hub`: no client build, a live listener, and `overrides` on top. */
export function testAppDependencies(
  db: Database,
  hub: Hub,
  overrides: Partial<AppDependencies> = {},
): AppDependencies {
  return {
    store: createMessageStore(db),
    db,
    limits: testLimits(),
    hub,
    listener: { live: true },
    assets: null,
    retryMs: 1000,
    heartbeatMs: 60_000,
    streamBufferBytes: 1 << 20,
    ...overrides,
  };
}
