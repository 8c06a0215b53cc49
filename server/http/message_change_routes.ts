/**
 * Changes to a posted message: PATCH /messages/<id> (its author edits it),
 * DELETE /messages/<id> (its author or a moderator removes it) and
 * POST /messages/<id>/reactions (a claimed name toggles a reaction). The
 * database's triggers log each change and tell every instance.
 */
import type { Context, Hono } from "hono";
import type { AppEnv, AppLimits } from "./app_env.ts";
import { secretsEqual } from "./admin_auth.ts";
import { refuseBannedName } from "../limits/ban_list.ts";
import { errorResponse } from "./http_error.ts";
import { readFields } from "./request_fields.ts";
import { parseId } from "./request_params.ts";
import { validateEditInput } from "../../protocol/message.ts";
import { validateReactionInput } from "../../protocol/reactions.ts";
import {
  MessageRejectedError,
  type MessageStore,
  MissingReferenceError,
} from "../store/message_store.ts";
import type { NameRecord, NameStore } from "../store/name_store.ts";
import {
  bearerToken,
  checkClaimToken,
  claimOfToken,
  failuresExceeded,
  noteUse,
  refuseSecret,
  tokenMissing,
} from "./name_auth.ts";
import { writeBudget } from "./write_budget.ts";
import type { LockdownGate } from "../limits/lockdown.ts";

/** What the message change routes are built from. */
export interface MessageChangeRouteDeps {
  store: MessageStore;
  names: NameStore;
  limits: Pick<AppLimits, "post" | "authFailures" | "trustProxy" | "bans">;
  /** True once the instance is shutting down (see readFields). */
  stopping: () => boolean;
  /** ADMIN_TOKEN: deletes any message; null = authors only. */
  adminToken: string | null;
  /** Lockdown's check (edits and reactions); none when absent. */
  lockdown?: LockdownGate;
}

/** Adds PATCH and DELETE /messages/:id and POST /messages/:id/reactions to `app` (register before any catch-all on /messages/:id). */
export function registerMessageChangeRoutes(
  app: Hono<AppEnv>,
  deps: MessageChangeRouteDeps,
): void {
  const { store, names, limits } = deps;
  const { guard, tooFast } = writeBudget(limits);
  const noMessage = (id: number) =>
    errorResponse(404, `There is no message ${id}.`);

  // The author's claim of message `id`, proven by `token`: the claim, or
  // the response to send (404 unknown id, 403 unverified message, another
  // name's token or a claim released since).
  const authorClaim = async (
    c: Context,
    id: number,
    token: string,
  ): Promise<
    { ok: true; claim: NameRecord } | { ok: false; res: Response }
  > => {
    const owner = await store.owner(id);
    if (owner === null) return { ok: false, res: noMessage(id) };
    const claim = owner.nameId === null ? null : await names.byId(owner.nameId);
    if (claim === null) {
      return {
        ok: false,
        res: errorResponse(
          403,
          `Message ${id} was not posted with a name's token (or that name has been given up since): nobody can change it.`,
        ),
      };
    }
    const refused = checkClaimToken(c, token, claim, guard);
    return refused ? { ok: false, res: refused } : { ok: true, claim };
  };

  app.patch("/messages/:id", async (c) => {
    const token = bearerToken(c);
    if (token === null) return tokenMissing("the author's name token");
    const limited = failuresExceeded(c, guard);
    if (limited) return limited;
    const id = parseId(c.req.param("id"), "The message id");
    if (!id.ok) return errorResponse(400, id.error);
    const author = await authorClaim(c, id.value, token);
    if (!author.ok) return author.res;
    const locked = await deps.lockdown?.refuse(author.claim.id);
    if (locked) return locked;
    const slow = await tooFast(c);
    if (slow) return slow;
    const fields = await readFields(c, ["text"], deps.stopping);
    if (!fields.ok) return fields.response;
    const text = validateEditInput(fields.value);
    if (!text.ok) return errorResponse(400, text.error);
    await noteUse(names, author.claim);
    let edited;
    try {
      edited = await store.edit(id.value, author.claim.id, text.value);
    } catch (error) {
      if (error instanceof MessageRejectedError) {
        return errorResponse(400, error.message);
      }
      throw error;
    }
    // Deleted between the check and the update.
    if (edited === null) return noMessage(id.value);
    return Response.json(edited);
  });

  app.delete("/messages/:id", async (c) => {
    const token = bearerToken(c);
    if (token === null) {
      return tokenMissing(
        deps.adminToken === null
          ? "the author's name token"
          : "the admin token or the author's name token",
      );
    }
    const limited = failuresExceeded(c, guard);
    if (limited) return limited;
    const isAdmin = deps.adminToken !== null &&
      secretsEqual(token, deps.adminToken);
    if (!isAdmin) {
      // Not the admin token: it must be a name's, and that name the
      // message's author. A token that is no name's is refused before the
      // id is even read, as a wrong admin token always was.
      const holder = await claimOfToken(
        c,
        token,
        names,
        guard,
        deps.adminToken === null
          ? "That token is not valid: it is no name's token."
          : "That token is not valid: it is neither the admin token nor a name's token.",
      );
      if (!holder.ok) return holder.response;
      const id = parseId(c.req.param("id"), "The message id");
      if (!id.ok) return errorResponse(400, id.error);
      const owner = await store.owner(id.value);
      if (owner === null) return noMessage(id.value);
      if (owner.nameId !== holder.claim.id) {
        return refuseSecret(
          c,
          guard,
          `Only the author of message ${id.value} (or a moderator) can delete it.`,
        );
      }
      await noteUse(names, holder.claim);
    }
    const id = parseId(c.req.param("id"), "The message id");
    if (!id.ok) return errorResponse(400, id.error);
    if (!(await store.remove(id.value))) return noMessage(id.value);
    // The delete trigger logs the change and tells every instance.
    return new Response(null, { status: 204 });
  });

  app.post("/messages/:id/reactions", async (c) => {
    const token = bearerToken(c);
    if (token === null) return tokenMissing("a name's token");
    const holder = await claimOfToken(c, token, names, guard);
    if (!holder.ok) return holder.response;
    const banned = refuseBannedName(limits.bans, holder.claim.name);
    if (banned) return banned;
    const locked = await deps.lockdown?.refuse(holder.claim.id);
    if (locked) return locked;
    const slow = await tooFast(c);
    if (slow) return slow;
    const id = parseId(c.req.param("id"), "The message id");
    if (!id.ok) return errorResponse(400, id.error);
    const fields = await readFields(c, ["emoji"], deps.stopping);
    if (!fields.ok) return fields.response;
    const emoji = validateReactionInput(fields.value);
    if (!emoji.ok) return errorResponse(400, emoji.error);
    await noteUse(names, holder.claim);
    let reacted: boolean;
    try {
      ({ reacted } = await store.toggleReaction(
        id.value,
        holder.claim.id,
        holder.claim.name,
        emoji.value,
      ));
    } catch (error) {
      if (error instanceof MissingReferenceError) return noMessage(id.value);
      // The table's CHECKs (the emoji set) refused what passed here.
      if (error instanceof MessageRejectedError) {
        return errorResponse(400, error.message);
      }
      throw error;
    }
    const message = await store.get(id.value);
    if (message === null) return noMessage(id.value);
    return Response.json({ reacted, message });
  });
}
