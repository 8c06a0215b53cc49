/**
 * Moderators' bots: POST /moderation/bots registers a bot (claims its name,
 * answers its token and webhook secret once), GET /moderation/bots lists
 * them and DELETE /moderation/bots/<name> unregisters one and releases its
 * name. All behind ADMIN_TOKEN. Messages posted under a bot's name carry
 * `bot: true`; mentions of a bot with a webhook are POSTed to it
 * (server/bots/).
 */
import type { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import { type BearerGuard, moderatorCheck } from "./admin_auth.ts";
import { errorResponse } from "./http_error.ts";
import { readFields } from "./request_fields.ts";
import { hashSecret, newToken } from "./name_auth.ts";
import { nameKey, validateName } from "../../protocol/names.ts";
import type { Validated } from "../../protocol/validated.ts";
import { isPublicAddress } from "../previews/ssrf_guard.ts";
import { parseIpAddress } from "../config.ts";
import type { BotStore } from "../bots/bot_store.ts";

/** Longest webhook URL accepted. */
export const MAX_WEBHOOK_LENGTH = 2_000;
/** Random bytes in a webhook secret (256 bits). */
export const SECRET_BYTES = 32;

/** What the bot routes need. */
export interface BotRouteDeps {
  bots: BotStore;
  /** ADMIN_TOKEN; null = the routes answer 404 saying moderation is off. */
  adminToken: string | null;
  guard: BearerGuard;
  stopping: () => boolean;
  /** NAME_IDLE_DAYS: an idle claim of the name is released first, as for POST /names. */
  idleDays: number;
}

const FIELDS = ["name", "webhook", "allowLocal"];

/** A checked POST /moderation/bots body. */
export interface BotInput {
  name: string;
  webhook: string | null;
  allowLocal: boolean;
}

/** Whether `host` (a URL's hostname) is certainly this machine or a private network, without resolving it. */
function certainlyLocal(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  if (bare === "localhost" || bare.endsWith(".localhost")) return true;
  return parseIpAddress(bare) !== null && !isPublicAddress(bare);
}

/** Checks a webhook URL: http(s), no credentials, at most MAX_WEBHOOK_LENGTH. */
export function parseWebhook(
  raw: unknown,
  allowLocal: boolean,
): Validated<string> {
  const invalid = {
    ok: false as const,
    error:
      `"webhook" must be an http or https URL of at most ${MAX_WEBHOOK_LENGTH} characters, without a user or password.`,
  };
  if (typeof raw !== "string" || raw.length > MAX_WEBHOOK_LENGTH) {
    return invalid;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return invalid;
  }
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    url.username !== "" || url.password !== "" || url.hostname === ""
  ) {
    return invalid;
  }
  if (!allowLocal && certainlyLocal(url.hostname)) {
    return {
      ok: false,
      error:
        `"webhook" is on a private or loopback address; set "allowLocal": true for a bot on this host.`,
    };
  }
  return { ok: true, value: url.href };
}

/** Checks a POST /moderation/bots body. */
export function parseBotInput(value: unknown): Validated<BotInput> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      error:
        'Body must be an object like {"name": "Echo", "webhook": "https://…"}.',
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
  const name = validateName(body.name);
  if (!name.ok) return name;
  const rawLocal = body.allowLocal ?? false;
  if (
    rawLocal !== true && rawLocal !== false && rawLocal !== "true" &&
    rawLocal !== "false"
  ) {
    return { ok: false, error: '"allowLocal" must be true or false.' };
  }
  const allowLocal = rawLocal === true || rawLocal === "true";
  let webhook: string | null = null;
  if (body.webhook !== undefined && body.webhook !== null) {
    const checked = parseWebhook(body.webhook, allowLocal);
    if (!checked.ok) return checked;
    webhook = checked.value;
  } else if (allowLocal) {
    return { ok: false, error: '"allowLocal" needs a "webhook".' };
  }
  return { ok: true, value: { name: name.value, webhook, allowLocal } };
}

/** A new webhook secret: SECRET_BYTES random bytes, base64url without padding. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-")
    .replace(/\//g, "_").replace(/=+$/, "");
}

/** Adds the bot routes to `app`. */
export function registerBotRoutes(
  app: Hono<AppEnv>,
  deps: BotRouteDeps,
): void {
  const admin = moderatorCheck(deps.adminToken, deps.guard);

  app.post("/moderation/bots", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    const fields = await readFields(c, FIELDS, deps.stopping);
    if (!fields.ok) return fields.response;
    const input = parseBotInput(fields.value);
    if (!input.ok) return errorResponse(400, input.error);
    const token = newToken();
    const secret = newSecret();
    const bot = await deps.bots.register({
      key: nameKey(input.value.name),
      name: input.value.name,
      tokenHash: hashSecret(token),
      webhook: input.value.webhook,
      secret,
      allowLocal: input.value.allowLocal,
    }, deps.idleDays);
    if (bot === null) {
      return errorResponse(
        409,
        `The name "${input.value.name}" is taken; pick another for the bot (or unregister the bot holding it).`,
      );
    }
    // The token and secret are shown this once: only the token's hash is
    // kept, and the secret is never listed.
    return Response.json({ ...bot, token, secret }, {
      status: 201,
      headers: { Location: `/moderation/bots/${encodeURIComponent(bot.name)}` },
    });
  });

  app.get("/moderation/bots", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    return Response.json({ bots: await deps.bots.list() });
  });

  app.delete("/moderation/bots/:name", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    // Hono has decoded the percent-encoding already.
    const name = validateName(c.req.param("name"));
    if (!name.ok) return errorResponse(400, name.error);
    if (!(await deps.bots.remove(nameKey(name.value)))) {
      return errorResponse(404, `There is no bot "${name.value}".`);
    }
    return new Response(null, { status: 204 });
  });
}
