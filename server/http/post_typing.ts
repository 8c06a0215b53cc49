import { TYPING_CHANNEL } from "../../db/channels.ts";
import type { Context, Hono } from "hono";
import { clientAddress } from "./client_address.ts";
import {
  type Database,
  DatabaseUnavailableError,
  isUnavailableError,
} from "../../db/database.ts";
import { refuseBannedName } from "../limits/ban_list.ts";
import { errorResponse } from "./http_error.ts";
import { validateTypingInput } from "../../protocol/message.ts";
import type { AppEnv, AppLimits } from "./app_env.ts";
import { readFields } from "./request_fields.ts";
import type { PlazaMetrics } from "../observe/metrics.ts";
import type { LockdownGate } from "../limits/lockdown.ts";

/** The POST /typing handler: tells every instance's streams who is typing; nothing is stored. */
export function postTyping(
  db: Database,
  limits: Pick<AppLimits, "typing" | "trustProxy" | "bans">,
  stopping: () => boolean,
  metrics: Pick<PlazaMetrics, "rateLimited">,
  lockdown?: LockdownGate,
) {
  return async (c: Context): Promise<Response> => {
    const decision = await limits.typing.take(
      clientAddress(c, limits.trustProxy),
    );
    if (!decision.ok) {
      metrics.rateLimited.inc({ kind: "typing" });
      return errorResponse(429, "Too many typing notices; slow down.", {
        "Retry-After": String(decision.retryAfterSeconds),
      });
    }
    const fields = await readFields(c, ["author"], stopping);
    if (!fields.ok) return fields.response;
    const author = validateTypingInput(fields.value);
    if (!author.ok) return errorResponse(400, author.error);
    const banned = refuseBannedName(limits.bans, author.value);
    if (banned) return banned;
    const locked = await lockdown?.refuseName(author.value);
    if (locked) return locked;
    try {
      // Through Postgres, so streams on every instance hear it.
      await db.query("select pg_notify($1, $2)", [
        TYPING_CHANNEL,
        JSON.stringify({ author: author.value }),
      ]);
    } catch (error) {
      if (isUnavailableError(error)) throw new DatabaseUnavailableError(error);
      throw error;
    }
    return c.json({ ok: true }, 202);
  };
}

/** Adds POST /typing (see postTyping). */
export function registerTypingRoutes(
  app: Hono<AppEnv>,
  ...deps: Parameters<typeof postTyping>
): void {
  app.post("/typing", postTyping(...deps));
}
