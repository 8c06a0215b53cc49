/** How the bench writes its figures. */

/** A figure with thousands separators and at most one decimal. */
export function fmt(n: number): string {
  return Number.isInteger(n)
    ? n.toLocaleString("en-US")
    : n.toLocaleString("en-US", { maximumFractionDigits: 1 });
}

/** Rounded to one decimal. */
export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
