/** A source of numbers in [0, 1), seeded so that a run can be repeated. */
export type Rng = () => number;

/** Uniform between `lo` and `hi`. */
export const between = (rng: Rng, lo: number, hi: number): number =>
  lo + (hi - lo) * rng();

/** Log-uniform between `lo` and `hi`: most waits short, some long, as with people. */
export const logBetween = (rng: Rng, lo: number, hi: number): number =>
  lo * Math.pow(hi / lo, rng());

/** Exponentially distributed around `mean`. */
export const exponential = (rng: Rng, mean: number): number =>
  -mean * Math.log(1 - rng());

/** One of `items`, uniformly. */
export const pick = <T>(rng: Rng, items: readonly T[]): T =>
  items[Math.floor(rng() * items.length)];

/** A version-4-shaped UUID from the seeded generator (crypto.randomUUID cannot be seeded). */
export function seededUuid(rng: Rng): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(rng() * 256));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${
    hex.slice(16, 20)
  }-${hex.slice(20)}`;
}
