import type { Context } from "hono";
import { DatabaseUnavailableError } from "../../db/database.ts";
import { refuseBannedName } from "../limits/ban_list.ts";
import { errorResponse, unavailableResponse } from "./http_error.ts";
import { validateMessageInput } from "../../protocol/message.ts";
import { nameKey } from "../../protocol/names.ts";
import {
  MessageRejectedError,
  type MessageStore,
} from "../store/message_store.ts";
import type { NameStore } from "../store/name_store.ts";
import { readFields } from "./request_fields.ts";
import type { AppLimits } from "./app_env.ts";
import { clientAddress } from "./client_address.ts";
import type { PlazaMetrics } from "../observe/metrics.ts";
import { bearerToken, checkClaimToken, noteUse } from "./name_auth.ts";
import type { SlowModeGate } from "../limits/slow_mode.ts";
import type { AttachmentStore } from "../store/attachment_store.ts";

/**
 * The POST /messages handler: validate, check the name's token when the name
 * is claimed, check slow mode, store (which notifies), answer 201 with the
 * message.
 */
export function postMessage(
  store: MessageStore,
  names: NameStore,
  limits: Pick<AppLimits, "post" | "trustProxy" | "authFailures" | "bans">,
  stopping: () => boolean,
  metrics: Pick<
    PlazaMetrics,
    "messagesPosted" | "rateLimited" | "databaseErrors"
  >,
  slowMode?: SlowModeGate,
  attachments?: AttachmentStore,
) {
  const guard = {
    failures: limits.authFailures,
    trustProxy: limits.trustProxy,
  };
  return async (c: Context): Promise<Response> => {
    const decision = await limits.post.take(
      clientAddress(c, limits.trustProxy),
    );
    if (!decision.ok) {
      metrics.rateLimited.inc({ kind: "post" });
      return errorResponse(
        429,
        "You are sending messages too fast; wait a moment and try again.",
        { "Retry-After": String(decision.retryAfterSeconds) },
      );
    }
    const fields = await readFields(
      c,
      ["author", "text", "clientId", "replyTo", "attachments"],
      stopping,
    );
    if (!fields.ok) return fields.response;
    const input = validateMessageInput(fields.value);
    if (!input.ok) return errorResponse(400, input.error);
    const banned = refuseBannedName(limits.bans, input.value.author);
    if (banned) return banned;
    try {
      // A claimed name posts only with its token; an unclaimed one posts
      // as before, unverified.
      const key = nameKey(input.value.author);
      let claim = await names.byKey(key);
      // A token for a name the cache thinks free: it may have been claimed
      // on another instance a moment ago, so ask the database.
      if (claim === null && bearerToken(c) !== null) {
        claim = await names.byKey(key, { fresh: true });
      }
      let nameId: number | null = null;
      let author = input.value.author;
      if (claim !== null) {
        const token = bearerToken(c);
        if (token === null) {
          return errorResponse(
            403,
            `"${claim.name}" is a claimed name: send its token as Authorization: Bearer <token>, or post under another name.`,
          );
        }
        const refused = checkClaimToken(c, token, claim, guard);
        if (refused) return refused;
        await noteUse(names, claim);
        nameId = claim.id;
        // Shown as claimed ("Ada" when "ada" was typed).
        author = claim.name;
      }
      const refs = input.value.attachments ?? [];
      if (refs.length > 0) {
        const refused = await refuseForeignUploads(
          attachments,
          refs.map((r) => r.id),
          key,
          nameId,
        );
        if (refused) return refused;
      }
      // After the claim check, so no one can spend a claimed name's turn
      // without its token.
      const slow = await slowMode?.refuse(author, input.value.clientId ?? null);
      if (slow) {
        metrics.rateLimited.inc({ kind: "slow_mode" });
        return slow;
      }
      const { message, created } = await store.insert({
        ...input.value,
        author,
        nameId,
      });
      if (created) metrics.messagesPosted.inc();
      // A repeat of a clientId answers 200 with the original: the client
      // retried a send whose first answer it never saw.
      return Response.json(message, {
        status: created ? 201 : 200,
        headers: { Location: `/messages/${message.id}` },
      });
    } catch (error) {
      if (error instanceof DatabaseUnavailableError) {
        metrics.databaseErrors.inc();
        return unavailableResponse();
      }
      if (error instanceof MessageRejectedError) {
        return errorResponse(400, error.message);
      }
      throw error;
    }
  };
}

/**
 * The 400 when one of `ids` is not an upload of this author (or is
 * removed), else null. Whether it is still unused is for the insert
 * trigger (db/migrations/016) to say, atomically: a retry of the same
 * clientId must find its original, whose pictures are taken by then.
 */
async function refuseForeignUploads(
  store: AttachmentStore | undefined,
  ids: string[],
  key: string,
  nameId: number | null,
): Promise<Response | null> {
  const owners = store ? await store.owners(ids) : new Map();
  for (const id of ids) {
    const owner = owners.get(id);
    // Uploaded under this name, and under its current claim if it had one
    // then (an upload made before the name was claimed still counts).
    const mine = owner !== undefined && owner.nameKey === key &&
      (owner.nameId === null || owner.nameId === nameId);
    if (!mine || owner.deleted) {
      return errorResponse(
        400,
        `Picture ${id} is not one you uploaded (or it was removed): upload it again with POST /attachments.`,
      );
    }
  }
  return null;
}
