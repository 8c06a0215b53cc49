import assert from "node:assert/strict";
import { createRateLimiter } from "./rate_limiter.ts";

Deno.test("rate limiter: a burst, then the refill rate, per key", () => {
  let now = 0;
  const limiter = createRateLimiter({
    capacity: 5,
    perSecond: 1,
    now: () => now,
  });
  for (let i = 0; i < 5; i++) assert.deepEqual(limiter.take("a"), { ok: true });
  assert.deepEqual(limiter.take("a"), { ok: false, retryAfterSeconds: 1 });
  assert.deepEqual(limiter.take("b"), { ok: true }, "keys are separate");
  now += 1000;
  assert.deepEqual(limiter.take("a"), { ok: true });
  assert.equal(limiter.take("a").ok, false);
  now += 60_000;
  for (let i = 0; i < 5; i++) assert.equal(limiter.take("a").ok, true);
  assert.equal(
    limiter.take("a").ok,
    false,
    "the bucket never holds more than its capacity",
  );
});

Deno.test("rate limiter: memory stays bounded by forgetting full buckets", () => {
  let now = 0;
  const limiter = createRateLimiter({
    capacity: 2,
    perSecond: 1,
    now: () => now,
    maxKeys: 100,
  });
  for (let i = 0; i < 100; i++) limiter.take(`k${i}`);
  limiter.take("busy");
  limiter.take("busy");
  now += 10_000;
  // Over maxKeys: the idle (refilled) buckets go; a spent one would stay.
  for (let i = 100; i < 150; i++) assert.equal(limiter.take(`k${i}`).ok, true);
});

Deno.test("rate limiter: peek tells what take would, without spending", () => {
  let now = 0;
  const limiter = createRateLimiter({
    capacity: 2,
    perSecond: 0.5,
    now: () => now,
  });
  assert.deepEqual(limiter.peek("a"), { ok: true }, "an unseen key");
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(limiter.peek("a"), { ok: true });
  }
  assert.equal(limiter.take("a").ok, true);
  assert.equal(limiter.take("a").ok, true);
  assert.deepEqual(limiter.peek("a"), { ok: false, retryAfterSeconds: 2 });
  now += 2000;
  assert.deepEqual(limiter.peek("a"), { ok: true });
  assert.equal(limiter.take("a").ok, true);
  assert.equal(limiter.peek("a").ok, false);
});
