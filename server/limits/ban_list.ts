import {
  type AddressRange,
  inAddressRange,
  parseAddressRange,
  parseIpAddress,
} from "../config.ts";
import { nameKey } from "../../protocol/names.ts";
import { errorResponse } from "../http/http_error.ts";
import type { Ban, BanStore } from "../store/ban_store.ts";

/** The bans in force, cached in memory so a check costs no query. */
export interface BanList {
  /** Re-reads the bans (on start, on a plaza_bans notification, after LISTEN reconnects). */
  refresh(): Promise<void>;
  /** The ban that covers `name` now, or null. */
  ofName(name: string): Ban | null;
  /** The ban that covers client `address` now, or null. */
  ofAddress(address: string): Ban | null;
}

type Cached = { ban: Ban; until: number; range: AddressRange | null };

/** Creates a ban list over `store`; empty until the first refresh(). */
export function createBanList(store: BanStore): BanList {
  let cached: Cached[] = [];
  // Refreshes can overlap (a burst of notifications): only the newest read
  // is kept, so an older answer never overwrites a newer one.
  let generation = 0;
  // As in slow_mode.ts: a refresh overtaken by a newer one waits for it, so
  // a route that refreshes after its write answers with that write applied.
  let applied = 0;
  let newest: Promise<void> = Promise.resolve();
  const live = (c: Cached) => c.until > Date.now();
  return {
    async refresh() {
      const mine = ++generation;
      const run = (async () => {
        const bans = await store.active();
        if (mine !== generation) return;
        cached = bans.map((ban) => ({
          ban,
          until: ban.expiresAt === null ? Infinity : Date.parse(ban.expiresAt),
          range: ban.address === null ? null : parseAddressRange(ban.address),
        }));
        applied = mine;
      })();
      newest = run;
      await run;
      while (applied < mine) await newest;
    },
    ofName(name) {
      const key = nameKey(name);
      return cached.find((c) =>
        c.ban.name !== null && nameKey(c.ban.name) === key && live(c)
      )?.ban ?? null;
    },
    ofAddress(address) {
      if (!cached.some((c) => c.range !== null)) return null;
      const parsed = parseIpAddress(address);
      if (parsed === null) return null;
      return cached.find((c) =>
        c.range !== null && inAddressRange(parsed, c.range) && live(c)
      )?.ban ?? null;
    },
  };
}

/** The 403 a banned name or address gets, saying until when and why. */
export function bannedResponse(ban: Ban): Response {
  const until = ban.expiresAt === null
    ? "until a moderator lifts it"
    : `until ${ban.expiresAt}`;
  const what = ban.name !== null ? "This name" : "Your address";
  const why = ban.reason === null ? "" : ` Reason: ${ban.reason}`;
  return errorResponse(
    403,
    `${what} is banned from this room ${until}.${why}`,
  );
}

/** The 403 for `name` when it is banned, else null (no list = no bans). */
export function refuseBannedName(
  bans: BanList | undefined,
  name: string,
): Response | null {
  const ban = bans?.ofName(name) ?? null;
  return ban === null ? null : bannedResponse(ban);
}
