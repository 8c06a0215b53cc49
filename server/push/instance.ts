/**
 * The push side of one Plaza instance, wired together for plaza.ts: the
 * VAPID keys, the stores behind the /push routes, and the dispatcher that
 * sends notifications from the shared queue.
 */
import type { Config } from "../config.ts";
import type { Database } from "../../db/database.ts";
import type { Logger } from "../observe/logger.ts";
import { createPushDispatcher } from "./dispatcher.ts";
import { loadVapidKeys } from "./keys.ts";
import {
  type PushRoutes,
  VISIBILITY_BURST,
  VISIBILITY_PER_SECOND,
} from "./routes.ts";
import { createPushSender } from "./send.ts";
import { createPushSubscriptionStore } from "./subscriptions.ts";
import { createVisibilityStore } from "./visibility.ts";
import { createRateLimiter, noRateLimit } from "../limits/rate_limiter.ts";

/** One instance's push parts. */
export interface PushInstance {
  /** For createApp's `push`. */
  routes: PushRoutes;
  /** Starts the dispatcher (once the instance serves). */
  start(): void;
  /** A message was published: the dispatcher looks at the queue. */
  wake(): void;
  /** Stops the dispatcher; call before closing the database. */
  close(): Promise<void>;
}

/**
 * Loads (or makes) the VAPID keys and builds the push parts; nothing runs
 * until start(). Throws ConfigError when configured keys do not match.
 */
export async function createPushInstance(
  db: Database,
  config: Pick<Config, "push" | "postLimit">,
  logger: Logger,
): Promise<PushInstance> {
  const { push } = config;
  const keys = await loadVapidKeys(db, push.vapidKeys);
  const visibility = createVisibilityStore(db);
  const endpoints = {
    hosts: push.serviceHosts,
    allowInsecure: push.allowInsecureEndpoints,
  };
  const dispatcher = createPushDispatcher({
    db,
    sender: createPushSender({
      keys,
      subject: push.subject,
      timeoutMs: push.sendTimeoutMs,
      endpoints,
    }),
    visibility,
    intervalMs: push.intervalMs,
    retryMs: push.retryMs,
    maxAttempts: push.maxAttempts,
    sendTimeoutMs: push.sendTimeoutMs,
    idleMs: push.pollMs,
    logger,
  });
  return {
    routes: {
      publicKey: keys.publicKey,
      subscriptions: createPushSubscriptionStore(db),
      visibility,
      // Subscribing costs what posting does: the same limits, own buckets.
      limiter: config.postLimit === null ? noRateLimit : createRateLimiter({
        capacity: config.postLimit.burst,
        perSecond: config.postLimit.perSecond,
      }),
      visibilityLimiter: createRateLimiter({
        capacity: VISIBILITY_BURST,
        perSecond: VISIBILITY_PER_SECOND,
      }),
      endpoints,
    },
    start: () => dispatcher.start(),
    wake: () => dispatcher.wake(),
    close: () => dispatcher.close(),
  };
}
