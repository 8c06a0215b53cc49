/**
 * DELETE /names/<name>/messages: the holder of a name's token erases
 * everything posted under it and releases the name (store/erase.ts).
 * docs/api.md, "Erase everything I posted", is the contract.
 */
import type { Hono } from "hono";
import type { AppEnv, AppLimits } from "./app_env.ts";
import type { Database } from "../../db/database.ts";
import { errorResponse } from "./http_error.ts";
import { nameKey, validateName } from "../../protocol/names.ts";
import type { NameStore } from "../store/name_store.ts";
import type { MessageStore } from "../store/message_store.ts";
import { eraseClaim } from "../store/erase.ts";
import { bearerToken, checkClaimToken, tokenMissing } from "./name_auth.ts";
import { writeBudget } from "./write_budget.ts";

/** What the erase route needs. */
export interface EraseRouteDeps {
  db: Database;
  store: Pick<MessageStore, "removeMany">;
  names: NameStore;
  limits: Pick<AppLimits, "post" | "authFailures" | "trustProxy">;
}

/** Adds DELETE /names/:name/messages to `app`. */
export function registerEraseRoutes(
  app: Hono<AppEnv>,
  deps: EraseRouteDeps,
): void {
  const { guard, tooFast } = writeBudget(deps.limits);
  app.delete("/names/:name/messages", async (c) => {
    const token = bearerToken(c);
    if (token === null) return tokenMissing("the name's token");
    const name = validateName(c.req.param("name"));
    // Fresh: the claim as it is now, not as an instance cached it.
    const claim = name.ok
      ? await deps.names.byKey(nameKey(name.value), { fresh: true })
      : null;
    if (claim === null) {
      return errorResponse(404, "Nobody has claimed that name.");
    }
    const refused = checkClaimToken(c, token, claim, guard);
    if (refused) return refused;
    const limited = await tooFast(c);
    if (limited) return limited;
    const erased = await eraseClaim(deps.db, deps.store, deps.names, claim.id);
    return Response.json({
      name: claim.name,
      removedMessages: erased.messages,
      removedReactions: erased.reactions,
      released: true,
    });
  });
}
