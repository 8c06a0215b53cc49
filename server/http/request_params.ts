import type { Validated } from "../../protocol/validated.ts";

/** Parses a message id (a positive whole number) from a header, path or query value. */
export function parseId(raw: string, name: string): Validated<number> {
  const value = raw.trim();
  // Bounded length first, so absurd input never reaches Number() or SQL.
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    return {
      ok: false,
      error: `${name} must be a non-negative whole number, got "${
        value.slice(0, 40)
      }".`,
    };
  }
  return { ok: true, value: Number(value) };
}

/** Parses an optional whole-number query parameter within [min, max]. */
export function parseIntParam(
  raw: string | undefined,
  name: string,
  min: number,
  max: number,
  fallback: number,
): Validated<number> {
  if (raw === undefined) return { ok: true, value: fallback };
  const value = raw.trim();
  if (!/^\d{1,6}$/.test(value) || Number(value) < min || Number(value) > max) {
    return {
      ok: false,
      error: `${name} must be a whole number from ${min} to ${max}, got "${
        value.slice(0, 40)
      }".`,
    };
  }
  return { ok: true, value: Number(value) };
}
