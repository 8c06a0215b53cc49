/**
 * Claimed names on this device: the token of each name it holds, kept in
 * localStorage, and the claim that gets one. A name is claimed on its first
 * send (POST /names); from then on only its token posts under it.
 */
import { nameKey } from "../protocol/names.ts";
import type { FetchLike } from "./fetch_like.ts";
import { call, failure, type OutboxStorage, read, write } from "./outbox.ts";

/** localStorage key prefix of a name's token; the rest is the name's nameKey. */
export const TOKEN_KEY = "plaza.token.";

/** A name someone else holds, and the free variant the server suggested (null: none). */
export interface TakenName {
  name: string;
  suggestion: string | null;
}

/** What claiming a name came to: its token, or why not (taken: held by someone else). */
export type Claim = { token: string } | {
  error: string;
  refused: boolean;
  taken?: TakenName;
};

/** The token this device holds for a name, or "" when none. */
export function readToken(storage: OutboxStorage | null, name: string): string {
  return read(storage, TOKEN_KEY + nameKey(name));
}

/** Keeps a name's token ("" forgets it). */
export function storeToken(
  storage: OutboxStorage | null,
  name: string,
  token: string,
): void {
  write(storage, TOKEN_KEY + nameKey(name), token);
}

/** The sentence shown when a name is taken. */
export function takenSentence({ name, suggestion }: TakenName): string {
  return `Someone else holds the name “${name}”. Choose another name${
    suggestion ? `, such as “${suggestion}”` : ""
  }.`;
}

/**
 * The name's token: the one kept here, or a new claim's (stored at once).
 * A 409 counts as ours when another tab of this browser claimed it meanwhile.
 */
export async function tokenFor(
  doFetch: FetchLike,
  storage: OutboxStorage | null,
  name: string,
  timeoutMs: number,
): Promise<Claim> {
  const kept = readToken(storage, name);
  if (kept) return { token: kept };
  const answer = await call(doFetch, "/names", "POST", { name }, "", timeoutMs);
  if ("error" in answer) return answer;
  const { status, body } = answer;
  if (status === 201 && typeof body.token === "string") {
    storeToken(storage, name, body.token);
    return { token: body.token };
  }
  const other = readToken(storage, name);
  if (other) return { token: other };
  if (status !== 409) return failure(answer);
  const taken = {
    name,
    suggestion: typeof body.suggestion === "string" ? body.suggestion : null,
  };
  return { error: takenSentence(taken), refused: true, taken };
}
