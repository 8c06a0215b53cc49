/**
 * Latency histograms with logarithmic buckets 1 % wide, so several load
 * generators can send their millions of samples to the runner as a few
 * hundred (bucket, count) pairs and the runner can merge them. Percentiles
 * are reported as their bucket's upper bound: at most 1 % high.
 */

const SMALLEST_MS = 0.001;
const STEP = Math.log(1.01);

/** Sparse counts: [bucket index, count] pairs. */
export type HistogramData = [number, number][];

/** Percentiles of a set of durations, in milliseconds. */
export interface Distribution {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** A growing histogram of durations in ms. */
export class Histogram {
  private counts = new Map<number, number>();
  count = 0;
  /** Exact largest value added. */
  max = 0;

  /** Adds one duration (values ≤ 1 µs, negatives included, share bucket 0). */
  add(ms: number) {
    const bucket = ms <= SMALLEST_MS
      ? 0
      : Math.floor(Math.log(ms / SMALLEST_MS) / STEP) + 1;
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** Adds another histogram's counts. */
  merge(data: HistogramData, max: number) {
    for (const [bucket, n] of data) {
      this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + n);
      this.count += n;
    }
    if (max > this.max) this.max = max;
  }

  /** The counts, for sending elsewhere. */
  data(): HistogramData {
    return [...this.counts].sort((a, b) => a[0] - b[0]);
  }

  /** The value at quantile q (0–1): the upper bound of its bucket, never above max. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (const [bucket, n] of this.data()) {
      seen += n;
      if (seen >= rank) {
        const upper = SMALLEST_MS * Math.exp(bucket * STEP);
        return Math.min(upper, this.max);
      }
    }
    return this.max;
  }

  /** p50, p99 and max, rounded to 0.01 ms. */
  distribution(): Distribution {
    const r = (x: number) => Math.round(x * 100) / 100;
    return {
      count: this.count,
      p50: r(this.quantile(0.5)),
      p99: r(this.quantile(0.99)),
      max: r(this.max),
    };
  }
}
