/**
 * The room's word and link rules and the mutes they handed out, cached on
 * every instance (re-read on a plaza_rules notification, after LISTEN
 * reconnects and right after a change made here), and the check POST
 * /messages makes with them before storing a message.
 */
import { nameKey } from "../../protocol/names.ts";
import { errorResponse } from "../http/http_error.ts";
import type { Mute, RuleStore } from "../store/rule_store.ts";
import { compileRules, NO_RULES, type RuleHit } from "./rule_matcher.ts";
import type { RuleMatcher } from "./rule_matcher.ts";

/** The rules and mutes in force, in memory so that a post costs no query. */
export interface RulesState {
  /** Re-reads rules and mutes. */
  refresh(): Promise<void>;
  /** The compiled rules. */
  matcher(): RuleMatcher;
  /** The mute on name `key` in force now, or null. */
  muteOf(key: string): Mute | null;
}

/** Creates the cached state over `store`; empty until the first refresh(). */
export function createRulesState(
  store: Pick<RuleStore, "list" | "mutes">,
): RulesState {
  let matcher = NO_RULES;
  let mutes = new Map<string, Mute>();
  // As in ban_list.ts: only the newest of overlapping reads is kept, and a
  // refresh overtaken by a newer one waits for it.
  let generation = 0;
  let applied = 0;
  let newest: Promise<void> = Promise.resolve();
  return {
    async refresh() {
      const mine = ++generation;
      const run = (async () => {
        // One after the other: a refresh settles only once neither read is
        // still waiting on the database (with Promise.all a failed read left
        // the other one running past the instance's close).
        const rules = await store.list();
        const active = await store.mutes();
        if (mine !== generation) return;
        matcher = compileRules(rules);
        mutes = new Map(active.map((m) => [m.key, m]));
        applied = mine;
      })();
      newest = run;
      await run;
      while (applied < mine) await newest;
    },
    matcher: () => matcher,
    muteOf(key) {
      const mute = mutes.get(key);
      return mute !== undefined && mute.until > Date.now() ? mute : null;
    },
  };
}

/** What the rules say about a post: store it, hold it, or refuse it with this answer. */
export type RuleDecision =
  | { kind: "post" }
  | { kind: "hold"; hit: RuleHit }
  | { kind: "refuse"; response: Response };

/** What POST /messages asks the rules. */
export interface RulesGate {
  /** Checks a post by `author` (as shown) before it is stored. */
  check(author: string, text: string): Promise<RuleDecision>;
}

function mutedResponse(name: string, mute: Mute): Response {
  const why = mute.reason === null ? "" : ` Reason: ${mute.reason}`;
  return errorResponse(
    403,
    `"${name}" may not post until ${
      new Date(mute.until).toISOString()
    } (muted by the room's rules).${why}`,
  );
}

/** The gate over the cached `state`; a `mute` rule writes the mute through `store`. */
export function createRulesGate(
  state: RulesState,
  store: Pick<RuleStore, "mute">,
): RulesGate {
  return {
    async check(author, text) {
      const key = nameKey(author);
      const muted = state.muteOf(key);
      if (muted !== null) {
        return { kind: "refuse", response: mutedResponse(author, muted) };
      }
      const matcher = state.matcher();
      if (matcher.size === 0) return { kind: "post" };
      const hit = matcher.match(text);
      if (hit === null) return { kind: "post" };
      const { rule } = hit;
      if (rule.action === "hold") return { kind: "hold", hit };
      if (rule.action === "mute") {
        const mute = await store.mute(
          key,
          author,
          rule.muteMinutes ?? 1,
          rule.reason,
          rule.id,
        );
        // Here at once; other instances on the plaza_rules notification.
        await state.refresh();
        return { kind: "refuse", response: mutedResponse(author, mute) };
      }
      const what = rule.kind === "domain"
        ? "it links to a site this room does not allow"
        : "it contains words this room does not allow";
      return {
        kind: "refuse",
        response: errorResponse(
          422,
          `Your message was not posted: ${rule.reason ?? what}.`,
        ),
      };
    },
  };
}
