/**
 * Moderators' bans: POST /moderation/bans, GET /moderation/bans and
 * DELETE /moderation/bans/<id>, all behind ADMIN_TOKEN. A ban refuses a
 * name's or an address's posts, typing, reactions, name claims, push
 * subscriptions and reports on every instance (see server/limits/ban_list.ts).
 */
import type { Hono, MiddlewareHandler } from "hono";
import { clientAddress } from "./client_address.ts";
import type { AppEnv } from "./app_env.ts";
import { type BearerGuard, moderatorCheck } from "./admin_auth.ts";
import { errorResponse } from "./http_error.ts";
import { readFields } from "./request_fields.ts";
import { parseId } from "./request_params.ts";
import { validateName } from "../../protocol/names.ts";
import { parseAddressRange, type ProxyTrust } from "../config.ts";
import type { BanStore, NewBan } from "../store/ban_store.ts";
import { type BanList, bannedResponse } from "../limits/ban_list.ts";

/** Longest ban: ten years (longer is what "until lifted" is for). */
export const MAX_BAN_SECONDS = 10 * 365 * 24 * 60 * 60;
/** Longest reason a moderator may give. */
export const MAX_REASON_LENGTH = 500;
/** Longest address text accepted (an IPv6 CIDR is at most 43 characters). */
export const MAX_ADDRESS_LENGTH = 64;

/** What the moderation routes need. */
export interface ModerationRouteDeps {
  bans: BanStore;
  /** This instance's cache, refreshed right after a change here. */
  list: BanList;
  /** ADMIN_TOKEN; null = the routes answer 404 saying moderation is off. */
  adminToken: string | null;
  guard: BearerGuard;
  stopping: () => boolean;
}

type Parsed = { ok: true; ban: NewBan; removeRecent: boolean } | {
  ok: false;
  error: string;
};

const FIELDS = [
  "name",
  "address",
  "durationSeconds",
  "reason",
  "removeRecentMessages",
];

/** Checks a POST /moderation/bans body. */
export function parseBanInput(value: unknown): Parsed {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      error: 'Body must be an object with "name" or "address".',
    };
  }
  const body = value as Record<string, unknown>;
  const unknownField = Object.keys(body).find((k) => !FIELDS.includes(k));
  if (unknownField !== undefined) {
    return {
      ok: false,
      error: `Unknown field "${unknownField.slice(0, 40)}"; expected ${
        FIELDS.join(", ")
      }.`,
    };
  }
  const has = (k: string) => body[k] !== undefined && body[k] !== null;
  if (has("name") === has("address")) {
    return {
      ok: false,
      error: 'Give exactly one of "name" and "address".',
    };
  }
  let name: string | null = null;
  let address: string | null = null;
  if (has("name")) {
    const checked = validateName(body.name);
    if (!checked.ok) return { ok: false, error: checked.error };
    name = checked.value;
  } else {
    const text = body.address;
    if (
      typeof text !== "string" || text.length > MAX_ADDRESS_LENGTH ||
      parseAddressRange(text) === null
    ) {
      return {
        ok: false,
        error:
          '"address" must be an IP address or CIDR range, e.g. "192.0.2.7" or "2001:db8::/32".',
      };
    }
    address = text.trim();
  }
  let durationSeconds: number | null = null;
  if (has("durationSeconds")) {
    const raw = body.durationSeconds;
    const n = typeof raw === "string" && /^\d{1,10}$/.test(raw)
      ? Number(raw)
      : raw;
    if (
      typeof n !== "number" || !Number.isInteger(n) || n < 1 ||
      n > MAX_BAN_SECONDS
    ) {
      return {
        ok: false,
        error:
          `"durationSeconds" must be a whole number from 1 to ${MAX_BAN_SECONDS}; leave it out for a ban until lifted.`,
      };
    }
    durationSeconds = n;
  }
  let reason: string | null = null;
  if (has("reason")) {
    if (
      typeof body.reason !== "string" ||
      body.reason.length > MAX_REASON_LENGTH ||
      // The reason is shown to the banned user in an error sentence.
      // deno-lint-ignore no-control-regex
      /[\x00-\x1f\x7f]/.test(body.reason)
    ) {
      return {
        ok: false,
        error:
          `"reason" must be text of at most ${MAX_REASON_LENGTH} characters, without control characters.`,
      };
    }
    reason = body.reason.trim() === "" ? null : body.reason;
  }
  let removeRecent = false;
  if (has("removeRecentMessages")) {
    const raw = body.removeRecentMessages;
    if (raw !== true && raw !== false && raw !== "true" && raw !== "false") {
      return {
        ok: false,
        error: '"removeRecentMessages" must be true or false.',
      };
    }
    removeRecent = raw === true || raw === "true";
    if (removeRecent && name === null) {
      return {
        ok: false,
        error:
          '"removeRecentMessages" needs a "name": messages do not record addresses.',
      };
    }
  }
  return {
    ok: true,
    ban: { name, address, reason, durationSeconds },
    removeRecent,
  };
}

/** Adds the moderation routes to `app`. */
export function registerModerationRoutes(
  app: Hono<AppEnv>,
  deps: ModerationRouteDeps,
): void {
  const admin = moderatorCheck(deps.adminToken, deps.guard);
  // Applied here at once; other instances follow on the bans NOTIFY.
  const refreshHere = () => deps.list.refresh();

  app.post("/moderation/bans", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    const fields = await readFields(c, FIELDS, deps.stopping);
    if (!fields.ok) return fields.response;
    const input = parseBanInput(fields.value);
    if (!input.ok) return errorResponse(400, input.error);
    const ban = await deps.bans.add(input.ban);
    await refreshHere();
    const removedMessages = input.removeRecent && input.ban.name !== null
      ? await deps.bans.removeRecentMessages(input.ban.name)
      : 0;
    return Response.json({ ...ban, removedMessages }, { status: 201 });
  });

  app.get("/moderation/bans", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    return Response.json({ bans: await deps.bans.active() });
  });

  app.delete("/moderation/bans/:id", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    const id = parseId(c.req.param("id"), "The ban id");
    if (!id.ok) return errorResponse(400, id.error);
    if (!(await deps.bans.remove(id.value))) {
      return errorResponse(404, `There is no ban ${id.value}.`);
    }
    await refreshHere();
    return new Response(null, { status: 204 });
  });
}

/** Write routes a banned address is refused on (before their body is read). */
const GUARDED = [
  /^\/messages(\/\d+(\/reactions)?)?$/,
  /^\/typing$/,
  /^\/names(\/.*)?$/,
  /^\/push\/subscriptions$/,
  /^\/reports$/,
];

/** Refuses every write a banned client address makes (403); reads pass. */
export function addressBanGuard(
  list: BanList,
  trustProxy: ProxyTrust,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const method = c.req.method;
    if (
      method !== "GET" && method !== "HEAD" && method !== "OPTIONS" &&
      GUARDED.some((re) => re.test(c.req.path))
    ) {
      const ban = list.ofAddress(clientAddress(c, trustProxy));
      if (ban !== null) return bannedResponse(ban);
    }
    await next();
  };
}
