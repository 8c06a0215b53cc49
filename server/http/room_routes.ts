/**
 * The room's settings: GET /room (public) answers the notice, slow mode and
 * lockdown in force; PUT and DELETE /moderation/notice and
 * /moderation/lockdown (behind ADMIN_TOKEN, like slow mode) change them. A
 * change is stored in the database, whose triggers tell every instance
 * (plaza_room); each re-reads the settings and tells its streams (a `room`
 * event). docs/api.md is the contract.
 */
import type { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import { type BearerGuard, moderatorCheck } from "./admin_auth.ts";
import { errorResponse } from "./http_error.ts";
import { readFields } from "./request_fields.ts";
import { validateText } from "../../protocol/message.ts";
import {
  MAX_LOCKDOWN_REASON_LENGTH,
  MAX_NOTICE_LENGTH,
} from "../../protocol/limits.ts";
import type { RoomEvent, SlowMode } from "../../protocol/events.ts";
import type { LockdownInput, RoomStore } from "../store/room_store.ts";
import type { RoomSettingsState } from "../limits/lockdown.ts";
import type { Validated } from "../../protocol/validated.ts";

/** Earliest `since` a lockdown takes (ISO); earlier is a typo, not a raid. */
export const EARLIEST_SINCE = "2000-01-01T00:00:00.000Z";
/** How far ahead of now a `since` may be, in ms: a clock a little ahead is fine, a date next year is a typo. */
export const MAX_SINCE_AHEAD_MS = 24 * 3600_000;

/** What the room routes need. */
export interface RoomRouteDeps {
  store: RoomStore;
  /** This instance's cache, refreshed right after a change here. */
  state: RoomSettingsState;
  /** Slow mode in force, for GET /room. */
  slowMode: { current(): SlowMode | null };
  /** ADMIN_TOKEN; null = the moderation routes answer 404 saying moderation is off. */
  adminToken: string | null;
  guard: BearerGuard;
  stopping: () => boolean;
}

const NOTICE_FIELDS = ["text"];
const LOCKDOWN_FIELDS = ["scope", "since", "reason"];
const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

function asObject(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : null;
}

/** The first field of `body` that is not one of `fields`, when its value is set. */
function unknownField(
  body: Record<string, unknown>,
  fields: string[],
): string | undefined {
  return Object.keys(body).find((k) =>
    !fields.includes(k) && body[k] !== undefined
  );
}

/**
 * Whether `text` is an ISO time with its zone that names a real moment:
 * Date.parse rolls "02-30" over into March and takes hour 24.
 */
function realTime(text: string): boolean {
  const m = ISO_TIME.exec(text);
  if (m === null) return false;
  const [y, mo, d, h] = text.slice(0, 13).split(/[-T]/).map(Number);
  return h < 24 &&
    new Date(Date.UTC(y, mo - 1, d)).getUTCDate() === d && mo <= 12;
}

/** Checks a PUT /moderation/notice body: `{"text": …}` under the message rules, at most MAX_NOTICE_LENGTH characters. */
export function parseNoticeInput(value: unknown): Validated<string> {
  const body = asObject(value);
  if (body === null) {
    return {
      ok: false,
      error: 'Body must be an object like {"text": "Be kind."}.',
    };
  }
  const extra = unknownField(body, NOTICE_FIELDS);
  if (extra !== undefined) {
    return {
      ok: false,
      error: `Unknown field "${extra.slice(0, 40)}"; expected text.`,
    };
  }
  const text = validateText(body.text);
  if (!text.ok) return text;
  const length = [...text.value].length;
  if (length > MAX_NOTICE_LENGTH) {
    return {
      ok: false,
      error:
        `Field "text" must be at most ${MAX_NOTICE_LENGTH} characters (got ${length}).`,
    };
  }
  return text;
}

/** Checks a PUT /moderation/lockdown body: `{"scope": "all"}` or `{"scope": "newer", "since": "<ISO time>"}`, and an optional reason. */
export function parseLockdownInput(
  value: unknown,
  now = Date.now(),
): Validated<LockdownInput> {
  const body = asObject(value);
  if (body === null) {
    return {
      ok: false,
      error:
        'Body must be an object like {"scope": "all"} or {"scope": "newer", "since": "2026-12-06T18:00:00Z"}.',
    };
  }
  const extra = unknownField(body, LOCKDOWN_FIELDS);
  if (extra !== undefined) {
    return {
      ok: false,
      error: `Unknown field "${
        extra.slice(0, 40)
      }"; expected scope, since and, optionally, reason.`,
    };
  }
  let reason: string | null = null;
  if (body.reason !== undefined && body.reason !== null && body.reason !== "") {
    const checked = validateText(body.reason);
    if (!checked.ok) {
      return { ok: false, error: checked.error.replace('"text"', '"reason"') };
    }
    const length = [...checked.value].length;
    if (length > MAX_LOCKDOWN_REASON_LENGTH || checked.value.includes("\n")) {
      return {
        ok: false,
        error:
          `Field "reason" must be one line of at most ${MAX_LOCKDOWN_REASON_LENGTH} characters.`,
      };
    }
    reason = checked.value;
  }
  if (body.scope === "all") {
    if (body.since !== undefined && body.since !== null && body.since !== "") {
      return {
        ok: false,
        error: 'Field "since" goes only with "scope": "newer".',
      };
    }
    return { ok: true, value: { scope: "all", since: null, reason } };
  }
  if (body.scope !== "newer") {
    return {
      ok: false,
      error:
        'Field "scope" must be "all" (nobody posts) or "newer" (names claimed after "since", and unclaimed names, do not post).',
    };
  }
  const since = typeof body.since === "string" && realTime(body.since)
    ? Date.parse(body.since)
    : NaN;
  if (
    !Number.isFinite(since) || since < Date.parse(EARLIEST_SINCE) ||
    since > now + MAX_SINCE_AHEAD_MS
  ) {
    return {
      ok: false,
      error:
        'With "scope": "newer", field "since" must be an ISO 8601 time with its zone, like "2026-12-06T18:00:00Z", after 2000 and not more than a day ahead.',
    };
  }
  return {
    ok: true,
    value: { scope: "newer", since: new Date(since).toISOString(), reason },
  };
}

/** Adds GET /room and PUT/DELETE /moderation/notice and /moderation/lockdown to `app`. */
export function registerRoomRoutes(
  app: Hono<AppEnv>,
  deps: RoomRouteDeps,
): void {
  const admin = moderatorCheck(deps.adminToken, deps.guard);
  const settings = (): RoomEvent => ({
    notice: deps.state.current().notice,
    slowMode: deps.slowMode.current(),
    lockdown: deps.state.current().lockdown,
  });
  // Applied here at once; other instances follow on the plaza_room NOTIFY.
  const answer = async () => {
    await deps.state.refresh();
    return Response.json(settings());
  };

  app.get("/room", () => Response.json(settings()));

  app.put("/moderation/notice", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    const fields = await readFields(c, NOTICE_FIELDS, deps.stopping);
    if (!fields.ok) return fields.response;
    const input = parseNoticeInput(fields.value);
    if (!input.ok) return errorResponse(400, input.error);
    await deps.store.setNotice(input.value);
    return await answer();
  });
  app.delete("/moderation/notice", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    await deps.store.clearNotice();
    return await answer();
  });

  app.put("/moderation/lockdown", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    const fields = await readFields(c, LOCKDOWN_FIELDS, deps.stopping);
    if (!fields.ok) return fields.response;
    const input = parseLockdownInput(fields.value);
    if (!input.ok) return errorResponse(400, input.error);
    await deps.store.setLockdown(input.value);
    return await answer();
  });
  app.delete("/moderation/lockdown", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    await deps.store.clearLockdown();
    return await answer();
  });
}
