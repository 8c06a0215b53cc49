/**
 * Moderators' rules compiled into one matcher, so a post is checked in one
 * pass over its words however many rules there are: single words are
 * looked up in a Map, phrases by their first word (then the words after
 * it compared), substrings found by one Aho-Corasick automaton over the
 * words, and link domains looked up suffix by suffix ("a.b.example" checks
 * "a.b.example", "b.example", "example"). See bench/scenarios/rules.ts.
 */
import { foldedWords } from "../../protocol/fold.ts";
import { LINK } from "../../protocol/links.ts";
import { type Rule, RULE_ACTIONS } from "../../protocol/rules.ts";

/** The rule a text matched and what in it matched. */
export interface RuleHit {
  rule: Rule;
  /** The folded words or the host that matched. */
  matched: string;
}

/** Finds the rule a message breaks. */
export interface RuleMatcher {
  /** How many rules it holds. */
  readonly size: number;
  /** The strongest rule `text` matches (mute over refuse over hold; the oldest among equals), or null. */
  match(text: string): RuleHit | null;
}

const LINKS = new RegExp(LINK.source, "giu");

const strength = (rule: Rule) => RULE_ACTIONS.indexOf(rule.action);
/** Whether `a` wins over `b` when both match. */
const beats = (a: Rule, b: Rule | null) =>
  b === null || strength(a) > strength(b) ||
  (strength(a) === strength(b) && a.id < b.id);

/** An Aho-Corasick automaton over UTF-16 code units. */
interface Automaton {
  next: Map<number, number>[];
  fail: number[];
  /** The strongest rule ending at each state (its fail chain included). */
  out: (Rule | null)[];
}

function buildAutomaton(patterns: [string, Rule][]): Automaton {
  const next: Map<number, number>[] = [new Map()];
  const out: (Rule | null)[] = [null];
  for (const [pattern, rule] of patterns) {
    let state = 0;
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern.charCodeAt(i);
      let to = next[state].get(c);
      if (to === undefined) {
        to = next.length;
        next.push(new Map());
        out.push(null);
        next[state].set(c, to);
      }
      state = to;
    }
    if (beats(rule, out[state])) out[state] = rule;
  }
  // Breadth first, so each state's fail target is finished before it.
  const fail = new Array<number>(next.length).fill(0);
  const queue: number[] = [...next[0].values()];
  for (let q = 0; q < queue.length; q++) {
    const state = queue[q];
    for (const [c, to] of next[state]) {
      let f = fail[state];
      while (f !== 0 && !next[f].has(c)) f = fail[f];
      const target = next[f].get(c);
      fail[to] = target !== undefined && target !== to ? target : 0;
      const inherited = out[fail[to]];
      if (inherited !== null && beats(inherited, out[to])) {
        out[to] = inherited;
      }
      queue.push(to);
    }
  }
  return { next, fail, out };
}

function runAutomaton(a: Automaton, text: string): Rule | null {
  let best: Rule | null = null;
  let state = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let to = a.next[state].get(c);
    while (to === undefined && state !== 0) {
      state = a.fail[state];
      to = a.next[state].get(c);
    }
    state = to ?? 0;
    const found = a.out[state];
    if (found !== null && beats(found, best)) best = found;
  }
  return best;
}

/** The host of an http(s) link, lower case and punycoded, or null. */
function hostOf(link: string): string | null {
  try {
    return new URL(link).hostname.replace(/\.$/, "");
  } catch {
    return null;
  }
}

/** Compiles `rules` (as stored: canonical patterns) into a matcher. */
export function compileRules(rules: readonly Rule[]): RuleMatcher {
  const words = new Map<string, Rule>();
  const domains = new Map<string, Rule>();
  // Phrases by their first word: the words that must follow it.
  const phrases = new Map<string, { rest: string[]; rule: Rule }[]>();
  const substrings: [string, Rule][] = [];
  const keep = (map: Map<string, Rule>, key: string, rule: Rule) => {
    if (beats(rule, map.get(key) ?? null)) map.set(key, rule);
  };
  for (const rule of rules) {
    if (rule.kind === "domain") keep(domains, rule.pattern, rule);
    else if (rule.substring) substrings.push([rule.pattern, rule]);
    else if (!rule.pattern.includes(" ")) keep(words, rule.pattern, rule);
    else {
      const [first, ...rest] = rule.pattern.split(" ");
      phrases.set(first, [...phrases.get(first) ?? [], { rest, rule }]);
    }
  }
  const automaton = substrings.length > 0 ? buildAutomaton(substrings) : null;
  const needWords = words.size > 0 || phrases.size > 0 || automaton !== null;
  return {
    size: rules.length,
    match(text) {
      let best: RuleHit | null = null;
      const consider = (rule: Rule | null | undefined, matched: string) => {
        if (rule && beats(rule, best?.rule ?? null)) best = { rule, matched };
      };
      if (domains.size > 0 && text.includes("://")) {
        for (const [, link] of text.matchAll(LINKS)) {
          const host = hostOf(link);
          if (host === null) continue;
          // Every suffix at a dot: the host itself, then its parents.
          for (let at = 0; at !== -1; at = host.indexOf(".", at + 1)) {
            const suffix = at === 0 ? host : host.slice(at + 1);
            consider(domains.get(suffix), suffix);
          }
        }
      }
      if (!needWords) return best;
      const folded = foldedWords(text);
      for (let i = 0; i < folded.length; i++) {
        consider(words.get(folded[i]), folded[i]);
        const starting = phrases.get(folded[i]);
        if (starting === undefined) continue;
        for (const { rest, rule } of starting) {
          if (rest.every((w, j) => folded[i + 1 + j] === w)) {
            consider(rule, rule.pattern);
          }
        }
      }
      if (automaton !== null) {
        // Words joined by one space, so a substring may span two words
        // ("cl ass") as its pattern says.
        const rule = runAutomaton(automaton, ` ${folded.join(" ")} `);
        if (rule !== null) consider(rule, rule.pattern);
      }
      return best;
    },
  };
}

/** A matcher with no rules. */
export const NO_RULES: RuleMatcher = compileRules([]);
