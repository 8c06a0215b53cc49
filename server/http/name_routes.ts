/**
 * Claimed names: POST /names (claim), POST /names/<name>/transfer and
 * POST /names/claim (move to another device), POST
 * /names/<name>/stream-ticket (proof for GET /stream?name=), DELETE
 * /names/<name> (release). docs/api.md, "Names", is the contract.
 */
import type { Context, Hono } from "hono";
import type { AppEnv, AppLimits } from "./app_env.ts";
import { refuseBannedName } from "../limits/ban_list.ts";
import { API_CACHE_CONTROL, errorResponse } from "./http_error.ts";
import { readFields } from "./request_fields.ts";
import {
  type NameClaim,
  nameKey,
  type TransferCode,
  validateClaimInput,
  validateName,
  validateNameInput,
} from "../../protocol/names.ts";
import type { NameRecord, NameStore } from "../store/name_store.ts";
import {
  bearerToken,
  checkClaimToken,
  failuresExceeded,
  formatTransferCode,
  hashSecret,
  newToken,
  newTransferCode,
  noteUse,
  refuseSecret,
  tokenMissing,
} from "./name_auth.ts";
import { MAX_AUTHOR_LENGTH } from "../../protocol/limits.ts";
import { writeBudget } from "./write_budget.ts";
import { newStreamTicket } from "./stream_ticket.ts";

/** How long a transfer code works. */
export const TRANSFER_CODE_TTL_MS = 10 * 60_000;
/** Numbered variants tried for a suggestion ("ada_2" … "ada_9") before random ones. */
const NUMBERED_SUGGESTIONS = 8;
/** Random variants ("ada_4821") tried after the numbered ones. */
const RANDOM_SUGGESTIONS = 4;

/** What the name routes are built from. */
export interface NameRouteDeps {
  names: NameStore;
  limits: Pick<AppLimits, "post" | "authFailures" | "trustProxy" | "bans">;
  /** True once the instance is shutting down (see readFields). */
  stopping: () => boolean;
  /** NAME_IDLE_DAYS: a claim unused this long goes to the next claimant (0 = never). */
  idleDays: number;
}

/** `name` with a suffix, cut so that the whole stays within MAX_AUTHOR_LENGTH characters. */
function withSuffix(name: string, suffix: string): string {
  const room = MAX_AUTHOR_LENGTH - [...suffix].length;
  return [...name].slice(0, room).join("").trimEnd() + suffix;
}

/** Adds the /names routes to `app`. */
export function registerNameRoutes(
  app: Hono<AppEnv>,
  deps: NameRouteDeps,
): void {
  const { names, limits } = deps;
  const { guard, tooFast } = writeBudget(limits);
  const claimed = (claim: NameRecord, token: string) =>
    Response.json(
      { name: claim.name, token } satisfies NameClaim,
      { status: 201, headers: { "Cache-Control": API_CACHE_CONTROL } },
    );
  // The claim the path names, checked against the request's token: the
  // claim, or the response to send.
  const ownClaim = async (
    c: Context,
  ): Promise<
    { ok: true; claim: NameRecord } | { ok: false; res: Response }
  > => {
    const token = bearerToken(c);
    if (token === null) {
      return { ok: false, res: tokenMissing("the name's token") };
    }
    const name = validateName(c.req.param("name"));
    // Fresh: a token's owner acts on the claim as it is now.
    const claim = name.ok
      ? await names.byKey(nameKey(name.value), { fresh: true })
      : null;
    if (claim === null) {
      return {
        ok: false,
        res: errorResponse(404, "Nobody has claimed that name."),
      };
    }
    const refused = checkClaimToken(c, token, claim, guard);
    return refused ? { ok: false, res: refused } : { ok: true, claim };
  };

  app.post("/names", async (c) => {
    const limited = await tooFast(c);
    if (limited) return limited;
    const fields = await readFields(c, ["name"], deps.stopping);
    if (!fields.ok) return fields.response;
    const name = validateNameInput(fields.value);
    if (!name.ok) return errorResponse(400, name.error);
    const banned = refuseBannedName(limits.bans, name.value);
    if (banned) return banned;
    const token = newToken();
    const claim = await names.claim(
      nameKey(name.value),
      name.value,
      hashSecret(token),
      deps.idleDays,
    );
    if (claim !== null) return claimed(claim, token);
    // Taken: suggest a free variant (not reserved, just free right now).
    const candidates = [
      ...Array.from(
        { length: NUMBERED_SUGGESTIONS },
        (_, i) => withSuffix(name.value, `_${i + 2}`),
      ),
      ...Array.from(
        { length: RANDOM_SUGGESTIONS },
        () =>
          withSuffix(name.value, `_${1000 + Math.floor(Math.random() * 9000)}`),
      ),
    ].filter((s) => validateName(s).ok);
    const free = await names.freeKeys(candidates.map(nameKey));
    const suggestion = candidates.find((s) => free.has(nameKey(s))) ?? null;
    return Response.json(
      {
        error: `The name "${name.value}" is taken${
          suggestion === null ? "" : `; "${suggestion}" is free`
        }.`,
        suggestion,
      },
      { status: 409, headers: { "Cache-Control": API_CACHE_CONTROL } },
    );
  });

  app.post("/names/claim", async (c) => {
    const limited = failuresExceeded(c, guard);
    if (limited) return limited;
    const fields = await readFields(c, ["code"], deps.stopping);
    if (!fields.ok) return fields.response;
    const code = validateClaimInput(fields.value);
    if (!code.ok) return errorResponse(400, code.error);
    const token = newToken();
    const claim = await names.finishTransfer(
      hashSecret(code.value),
      hashSecret(token),
    );
    if (claim === null) {
      return refuseSecret(
        c,
        guard,
        "That code is not valid: it is wrong, used or expired. Ask the other device for a new one.",
      );
    }
    return claimed(claim, token);
  });

  app.post("/names/:name/transfer", async (c) => {
    const own = await ownClaim(c);
    if (!own.ok) return own.res;
    const limited = await tooFast(c);
    if (limited) return limited;
    await noteUse(names, own.claim);
    const code = newTransferCode();
    const expiresAt = await names.startTransfer(
      own.claim.id,
      hashSecret(code),
      TRANSFER_CODE_TTL_MS,
    );
    return Response.json(
      {
        code: formatTransferCode(code),
        expiresAt: expiresAt.toISOString(),
      } satisfies TransferCode,
      { status: 201, headers: { "Cache-Control": API_CACHE_CONTROL } },
    );
  });

  // A short-lived proof for GET /stream?name=, which a browser opens by URL
  // (stream_ticket.ts says why not the token itself).
  app.post("/names/:name/stream-ticket", async (c) => {
    const own = await ownClaim(c);
    if (!own.ok) return own.res;
    const banned = refuseBannedName(limits.bans, own.claim.name);
    if (banned) return banned;
    const { ticket, expires } = newStreamTicket(own.claim);
    return Response.json(
      {
        ticket,
        expiresAt: new Date(expires).toISOString(),
        // For the client to tell whether a lockdown of newer names stops it.
        claimedAt: own.claim.claimedAt.toISOString(),
      },
      { status: 201, headers: { "Cache-Control": API_CACHE_CONTROL } },
    );
  });

  app.delete("/names/:name", async (c) => {
    const own = await ownClaim(c);
    if (!own.ok) return own.res;
    await names.release(own.claim.id);
    return new Response(null, { status: 204 });
  });
}
