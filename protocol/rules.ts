/**
 * Moderators' word and link rules: their wire shape and the checks on what
 * a moderator sends (POST /moderation/rules). The server's matcher is in
 * server/limits/rule_matcher.ts; docs/api.md says what each action does.
 */
import { foldedWords } from "./fold.ts";
import type { Message } from "./message.ts";
import type { Validated } from "./validated.ts";

/** What a rule does to a post it matches. */
export type RuleAction = "refuse" | "hold" | "mute";
/** The actions, mildest first: when rules disagree the last one found wins. */
export const RULE_ACTIONS: readonly RuleAction[] = ["hold", "refuse", "mute"];

/** A rule as stored and listed. */
export interface Rule {
  id: number;
  /** A word or phrase, or a link's domain (its subdomains too). */
  kind: "word" | "domain";
  /** Canonical: folded words joined by one space, or a lower-case host name. */
  pattern: string;
  /** A word rule matching inside words too ("ass" in "class"). */
  substring: boolean;
  action: RuleAction;
  /** How long a `mute` silences the name; null for other actions. */
  muteMinutes: number | null;
  /** Shown to the poster with the refusal; null: a general sentence. */
  reason: string | null;
  /** ISO 8601, UTC. */
  createdAt: string;
}

/** A rule to add: a Rule without its id and date. */
export type RuleInput = Omit<Rule, "id" | "createdAt">;

/** A held message as GET /moderation/held lists it. */
export interface HeldMessage {
  message: Message;
  /** The rule that held it (null once that rule was removed). */
  ruleId: number | null;
  /** What the rule matched. */
  matched: string | null;
}

/** Longest pattern a moderator may give, in characters. */
export const MAX_PATTERN_LENGTH = 200;
/** Longest reason, as for bans. */
export const MAX_RULE_REASON_LENGTH = 500;
/** Longest mute: a year, in minutes. */
export const MAX_MUTE_MINUTES = 525_600;

/** The fields POST /moderation/rules reads. */
export const RULE_FIELDS = [
  "word",
  "domain",
  "substring",
  "action",
  "minutes",
  "reason",
];

/**
 * A domain as a rule stores it: lower case, IDNA (punycode), no scheme,
 * path, port, leading "*." or trailing dot. Null when it is not a host name.
 */
export function canonicalDomain(raw: string): string | null {
  const bare = raw.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
    .replace(/^\*?\./, "").split(/[/?#]/)[0];
  if (bare === "" || /[\s@\\]/.test(bare)) return null;
  let host: string;
  try {
    host = new URL(`http://${bare}`).hostname;
  } catch {
    return null;
  }
  host = host.replace(/\.$/, "");
  return /^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(host) &&
      host.length <= MAX_PATTERN_LENGTH
    ? host
    : null;
}

/** A word or phrase as a rule stores it: its folded words joined by one space; null when it has none. */
export function canonicalWords(raw: string): string | null {
  const words = foldedWords(raw);
  return words.length === 0 ? null : words.join(" ");
}

function flag(raw: unknown): boolean | null {
  if (raw === undefined || raw === null || raw === false || raw === "false") {
    return false;
  }
  return raw === true || raw === "true" ? true : null;
}

/** Checks a POST /moderation/rules body. */
export function validateRuleInput(input: unknown): Validated<RuleInput> {
  const fail = (error: string): Validated<RuleInput> => ({ ok: false, error });
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return fail(
      'Body must be an object like {"word": "spam", "action": "refuse"} or {"domain": "bit.ly", "action": "hold"}.',
    );
  }
  const body = input as Record<string, unknown>;
  const unknown = Object.keys(body).find((k) => !RULE_FIELDS.includes(k));
  if (unknown !== undefined) {
    return fail(
      `Unknown field "${unknown.slice(0, 40)}"; expected ${
        RULE_FIELDS.join(", ")
      }.`,
    );
  }
  const has = (k: string) => body[k] !== undefined && body[k] !== null;
  if (has("word") === has("domain")) {
    return fail('Give exactly one of "word" and "domain".');
  }
  const raw = has("word") ? body.word : body.domain;
  if (typeof raw !== "string" || raw.length > MAX_PATTERN_LENGTH) {
    return fail(
      `"${
        has("word") ? "word" : "domain"
      }" must be text of at most ${MAX_PATTERN_LENGTH} characters.`,
    );
  }
  const substring = flag(body.substring);
  if (substring === null) return fail('"substring" must be true or false.');
  let kind: Rule["kind"];
  let pattern: string | null;
  if (has("word")) {
    kind = "word";
    pattern = raw.isWellFormed() ? canonicalWords(raw) : null;
    if (pattern === null) {
      return fail('"word" must hold at least one letter or digit.');
    }
  } else {
    kind = "domain";
    if (substring) return fail('"substring" applies to words only.');
    pattern = canonicalDomain(raw);
    if (pattern === null) {
      return fail('"domain" must be a host name such as "bit.ly".');
    }
  }
  const action = body.action;
  if (!RULE_ACTIONS.includes(action as RuleAction)) {
    return fail('"action" must be "refuse", "hold" or "mute".');
  }
  let muteMinutes: number | null = null;
  if (action === "mute") {
    const m = typeof body.minutes === "string" && /^\d{1,7}$/.test(body.minutes)
      ? Number(body.minutes)
      : body.minutes;
    if (
      typeof m !== "number" || !Number.isInteger(m) || m < 1 ||
      m > MAX_MUTE_MINUTES
    ) {
      return fail(
        `"minutes" must be a whole number from 1 to ${MAX_MUTE_MINUTES}: how long a "mute" keeps the name from posting.`,
      );
    }
    muteMinutes = m;
  } else if (has("minutes")) {
    return fail('"minutes" applies to the "mute" action only.');
  }
  let reason: string | null = null;
  if (has("reason")) {
    if (
      typeof body.reason !== "string" ||
      body.reason.length > MAX_RULE_REASON_LENGTH ||
      !body.reason.isWellFormed() ||
      // Shown to the poster in an error sentence.
      // deno-lint-ignore no-control-regex
      /[\x00-\x1f\x7f]/.test(body.reason)
    ) {
      return fail(
        `"reason" must be text of at most ${MAX_RULE_REASON_LENGTH} characters, without control characters.`,
      );
    }
    reason = body.reason.trim() === "" ? null : body.reason.trim();
  }
  return {
    ok: true,
    value: {
      kind,
      pattern,
      substring,
      action: action as RuleAction,
      muteMinutes,
      reason,
    },
  };
}

/**
 * Link shorteners: a link through one hides where it leads, so a rule on a
 * domain is easy to get around with one. `POST /moderation/rules/shorteners`
 * (`deno task moderate rules shorteners`) adds a rule for each.
 */
export const URL_SHORTENERS: readonly string[] = [
  "bit.ly",
  "bitly.com",
  "bl.ink",
  "buff.ly",
  "cutt.ly",
  "goo.gl",
  "is.gd",
  "lnkd.in",
  "ow.ly",
  "rb.gy",
  "rebrand.ly",
  "s.id",
  "shorturl.at",
  "t.co",
  "t.ly",
  "tiny.cc",
  "tinyurl.com",
  "v.gd",
  "qrco.de",
  "shorte.st",
  "adf.ly",
];
