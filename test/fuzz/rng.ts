/** The fuzzer's randomness: one seeded PRNG per case, so case N repeats exactly whatever the scheduling. */
import { seededRandom } from "../harness/seeded_random.ts";

/** Mixes seed and case number so that neighbouring cases get unrelated streams. */
export function caseSeed(seed: number, index: number): number {
  // mulberry32 seeds that differ by little start out alike: hash first
  // (murmur3's finaliser).
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Seeded draws: whole numbers, chances, picks from lists and weighted tables, UUIDs. */
export class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }
  /** A whole number in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.#next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#next() * items.length)];
  }
  weighted<T>(table: readonly (readonly [T, number])[]): T {
    const total = table.reduce((sum, [, w]) => sum + w, 0);
    let x = this.#next() * total;
    for (const [value, w] of table) {
      x -= w;
      if (x < 0) return value;
    }
    return table[table.length - 1][0];
  }
  /** A UUID drawn from this PRNG (not crypto), so replays repeat it. */
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(0, 15).toString(16))
      .join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${
      hex.slice(17, 20)
    }-${hex.slice(20)}`;
  }
}
