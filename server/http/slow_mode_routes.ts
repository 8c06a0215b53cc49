/**
 * The room's slow mode for moderators: GET, PUT and DELETE
 * /moderation/slow-mode, behind ADMIN_TOKEN like the bans. A change is
 * stored in the database, whose trigger tells every instance (plaza_room);
 * they re-read it and tell their streams (a `room` event).
 */
import type { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import { type BearerGuard, moderatorCheck } from "./admin_auth.ts";
import { errorResponse } from "./http_error.ts";
import { readFields } from "./request_fields.ts";
import type { SlowModeStore } from "../store/slow_mode_store.ts";
import {
  MAX_SLOW_MODE_SECONDS,
  type SlowModeState,
} from "../limits/slow_mode.ts";

/** Longest timed slow mode, in minutes (a week; longer is what "until cleared" is for). */
export const MAX_SLOW_MODE_MINUTES = 7 * 24 * 60;

/** What the slow-mode routes need. */
export interface SlowModeRouteDeps {
  store: SlowModeStore;
  /** This instance's cache, refreshed right after a change here. */
  state: SlowModeState;
  /**
   * How long turning slow mode off keeps the automatic switch away, in
   * seconds (its hold time; 0 when it is off).
   */
  pauseSeconds: number;
  /** ADMIN_TOKEN; null = the routes answer 404 saying moderation is off. */
  adminToken: string | null;
  guard: BearerGuard;
  stopping: () => boolean;
}

const FIELDS = ["seconds", "minutes"];

/** A PUT body: slow mode's seconds per message (0 = off) and how long, or why it is refused. */
export type SlowModeInput =
  | { ok: true; seconds: number; minutes: number | null }
  | { ok: false; error: string };

/** A whole number in [min, max], from JSON or a form's digits; null when it is not one. */
function wholeNumber(raw: unknown, min: number, max: number): number | null {
  const n = typeof raw === "string" && /^\d{1,10}$/.test(raw)
    ? Number(raw)
    : raw;
  return typeof n === "number" && Number.isInteger(n) && n >= min && n <= max
    ? n
    : null;
}

/** Checks a PUT /moderation/slow-mode body. */
export function parseSlowModeInput(value: unknown): SlowModeInput {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      error: 'Body must be an object like {"seconds": 10, "minutes": 30}.',
    };
  }
  const body = value as Record<string, unknown>;
  const unknownField = Object.keys(body).find((k) => !FIELDS.includes(k));
  if (unknownField !== undefined) {
    return {
      ok: false,
      error: `Unknown field "${
        unknownField.slice(0, 40)
      }"; expected seconds and, optionally, minutes.`,
    };
  }
  const seconds = wholeNumber(body.seconds, 0, MAX_SLOW_MODE_SECONDS);
  if (seconds === null) {
    return {
      ok: false,
      error:
        `"seconds" must be a whole number from 1 to ${MAX_SLOW_MODE_SECONDS} (one message per name per that many seconds), or 0 to turn slow mode off.`,
    };
  }
  let minutes: number | null = null;
  if (body.minutes !== undefined && body.minutes !== null) {
    minutes = wholeNumber(body.minutes, 1, MAX_SLOW_MODE_MINUTES);
    if (minutes === null) {
      return {
        ok: false,
        error:
          `"minutes" must be a whole number from 1 to ${MAX_SLOW_MODE_MINUTES}; leave it out for slow mode until cleared.`,
      };
    }
  }
  return { ok: true, seconds, minutes };
}

/** Adds GET, PUT and DELETE /moderation/slow-mode to `app`. */
export function registerSlowModeRoutes(
  app: Hono<AppEnv>,
  deps: SlowModeRouteDeps,
): void {
  const path = "/moderation/slow-mode";
  const admin = moderatorCheck(deps.adminToken, deps.guard);
  // Applied here at once; other instances follow on the plaza_room NOTIFY.
  const answer = async () => {
    await deps.state.refresh();
    return Response.json({ slowMode: deps.state.setting() });
  };
  const clear = async () => {
    await deps.store.clear(deps.pauseSeconds);
    return await answer();
  };

  app.get(path, async (c) => admin(c) ?? await answer());

  app.put(path, async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    const fields = await readFields(c, FIELDS, deps.stopping);
    if (!fields.ok) return fields.response;
    const input = parseSlowModeInput(fields.value);
    if (!input.ok) return errorResponse(400, input.error);
    if (input.seconds === 0) return await clear();
    await deps.store.set(
      input.seconds,
      input.minutes === null ? null : input.minutes * 60,
    );
    return await answer();
  });

  app.delete(path, async (c) => admin(c) ?? await clear());
}
