import assert from "node:assert/strict";
import { Histogram } from "./histogram.ts";

Deno.test("histogram percentiles are within 1 % of the exact ones, merged or not", () => {
  const values = Array.from({ length: 10_000 }, (_, i) => 0.05 * (i + 1));
  const whole = new Histogram();
  const a = new Histogram();
  const b = new Histogram();
  values.forEach((v, i) => {
    whole.add(v);
    (i % 3 === 0 ? a : b).add(v);
  });
  const merged = new Histogram();
  merged.merge(a.data(), a.max);
  merged.merge(b.data(), b.max);
  for (const h of [whole, merged]) {
    assert.equal(h.count, 10_000);
    assert.equal(h.max, 500);
    for (const [q, exact] of [[0.5, 250], [0.99, 495], [1, 500]]) {
      const got = h.quantile(q);
      assert.ok(got >= exact && got <= exact * 1.01, `q${q}: ${got}`);
    }
  }
  assert.deepEqual(merged.data(), whole.data());
});

Deno.test("an empty histogram reports zeros", () => {
  assert.deepEqual(new Histogram().distribution(), {
    count: 0,
    p50: 0,
    p99: 0,
    max: 0,
  });
});
