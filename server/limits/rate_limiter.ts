/** Outcome of asking for a token. */
export type RateDecision = { ok: true } | {
  ok: false;
  retryAfterSeconds: number;
};

/** Anything that rations requests per client address, in memory or shared through the database. */
export interface AddressLimiter {
  take(key: string): RateDecision | Promise<RateDecision>;
}

/** Token buckets keyed by client address. */
export interface RateLimiter {
  take(key: string): RateDecision;
  /** What take(key) would answer now, without spending a token. */
  peek(key: string): RateDecision;
}

/** Bucket size and refill rate. */
export interface RateLimiterOptions {
  /** Tokens a client may spend at once (the burst). */
  capacity: number;
  /** Tokens returned per second. */
  perSecond: number;
  /** Milliseconds clock, injectable for tests. */
  now?: () => number;
  /** Buckets kept before idle (full) ones are forgotten. */
  maxKeys?: number;
}

/** Creates a token-bucket limiter; memory stays bounded by forgetting full buckets. */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 10_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  const refill = (b: { tokens: number; at: number }, t: number) => {
    b.tokens = Math.min(
      options.capacity,
      b.tokens + ((t - b.at) / 1000) * options.perSecond,
    );
    b.at = t;
  };

  return {
    take(key) {
      const t = now();
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        if (buckets.size >= maxKeys) {
          // A full bucket is indistinguishable from a new one: drop those.
          for (const [k, b] of buckets) {
            refill(b, t);
            if (b.tokens >= options.capacity) buckets.delete(k);
          }
        }
        bucket = { tokens: options.capacity, at: t };
        buckets.set(key, bucket);
      }
      refill(bucket, t);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return refused(bucket.tokens);
    },
    peek(key) {
      const bucket = buckets.get(key);
      if (bucket === undefined) return { ok: true };
      refill(bucket, now());
      return bucket.tokens >= 1 ? { ok: true } : refused(bucket.tokens);
    },
  };

  function refused(tokens: number): RateDecision {
    return {
      ok: false,
      retryAfterSeconds: Math.ceil((1 - tokens) / options.perSecond),
    };
  }
}

/** The limiter for a limit configured `off`: every request passes. */
export const noRateLimit: RateLimiter = {
  take: () => ({ ok: true }),
  peek: () => ({ ok: true }),
};
