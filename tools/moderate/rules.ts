/**
 * The rule commands of `deno task moderate`: `rules` lists, adds and
 * removes word and link rules (and enables the shortener list), `held`
 * lists the messages they held and approves or rejects them.
 */
import { type Call, reasonOf, shellQuote, SHOWN_TEXT } from "./reports.ts";
import type { HeldMessage, Rule } from "../../protocol/rules.ts";

/** The lines USAGE gives these commands. */
export const RULES_USAGE =
  `  rules                         list the word and link rules
  rules add word|domain <pattern> refuse|hold|mute [--minutes <n>] [--reason <text>] [--substring]
                                add a rule (mute needs --minutes; --substring matches inside words)
  rules remove <rule id>…       remove rules
  rules shorteners refuse|hold|mute [--minutes <n>] [--reason <text>]
                                a rule for each known link shortener
  held                          list held messages, with commands to act
  held approve|reject <id>…     post held messages to the room, or drop them`;

/** Parses `add word|domain <pattern> <action> [options]` (or, with `pattern` false, `shorteners <action> [options]`) into a POST body. */
export function ruleBody(
  args: string[],
  withPattern = true,
): { ok: true; body: Record<string, unknown> } | { ok: false; error: string } {
  const body: Record<string, unknown> = {};
  let rest = args;
  if (withPattern) {
    const [kind, pattern, ...more] = args;
    if ((kind !== "word" && kind !== "domain") || pattern === undefined) {
      return {
        ok: false,
        error: "rules add needs `word <text>` or `domain <host>`",
      };
    }
    body[kind] = pattern;
    rest = more;
  }
  const [action, ...options] = rest;
  if (action === undefined) {
    return { ok: false, error: "give an action: refuse, hold or mute" };
  }
  body.action = action;
  for (let i = 0; i < options.length; i++) {
    const flag = options[i];
    if (flag === "--substring" && withPattern) body.substring = true;
    else if (flag === "--minutes" && options[i + 1] !== undefined) {
      body.minutes = Number(options[++i]);
    } else if (flag === "--reason" && options[i + 1] !== undefined) {
      body.reason = options[++i];
    } else return { ok: false, error: `unknown option ${flag}` };
  }
  return { ok: true, body };
}

/** A rule as one line. */
export function describeRule(r: Rule): string {
  const what = r.kind === "domain"
    ? `domain ${r.pattern} (and subdomains)`
    : `${r.substring ? "substring" : "word"} ${JSON.stringify(r.pattern)}`;
  const action = r.action === "mute" ? `mute ${r.muteMinutes} min` : r.action;
  return `${r.id}\t${action}\t${what}${r.reason ? `\t${r.reason}` : ""}`;
}

/** A held message as lines, with the commands that act on it. */
export function describeHeld(h: HeldMessage): string[] {
  const m = h.message;
  const text = [...m.text.replace(/\r?\n/g, " ⏎ ")];
  const shown = text.length > SHOWN_TEXT
    ? text.slice(0, SHOWN_TEXT).join("") + "…"
    : text.join("");
  const cmd = "deno task moderate";
  return [
    `held ${m.id}: ${m.createdAt}, rule ${h.ruleId ?? "(removed)"} matched ${
      JSON.stringify(h.matched)
    }`,
    `  ${m.author}${m.verified ? " ✓" : ""}: ${shown}`,
    `  post it:  ${cmd} held approve ${m.id}`,
    `  drop it:  ${cmd} held reject ${m.id}`,
    `  ban them: ${cmd} ban name ${shellQuote(m.author)}`,
  ];
}

async function each(
  ids: string[],
  act: (id: string) => Promise<{ status: number; text: string }>,
  done: (id: string, text: string) => string,
  what: string,
): Promise<number> {
  if (ids.length === 0) {
    console.error(`${what} needs ids`);
    return 2;
  }
  let failed = 0;
  for (const id of ids) {
    const res = await act(id);
    if (res.status === 200 || res.status === 204) {
      console.log(done(id, res.text));
    } else {
      failed++;
      console.error(`${what} ${id}: ${res.status} ${reasonOf(res.text)}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

/** Runs `rules …` or `held …`; null when `command` is neither. */
export async function runRulesCommand(
  command: string | undefined,
  rest: string[],
  call: Call,
): Promise<number | null> {
  if (command === "held") {
    const [verb, ...ids] = rest;
    if (verb === "approve" || verb === "reject") {
      return await each(
        ids,
        (id) =>
          call("POST", `/moderation/held/${encodeURIComponent(id)}/${verb}`),
        (id, text) =>
          verb === "reject"
            ? `rejected held message ${id}`
            : `approved held message ${id}: now message ${JSON.parse(text).id}`,
        "held message",
      );
    }
    if (verb !== undefined) {
      console.error(RULES_USAGE);
      return 2;
    }
    const res = await call("GET", "/moderation/held");
    if (res.status !== 200) {
      console.error(`held: ${res.status} ${reasonOf(res.text)}`);
      return 1;
    }
    const { held } = JSON.parse(res.text) as { held: HeldMessage[] };
    if (held.length === 0) console.log("no held messages");
    for (const h of held) console.log(describeHeld(h).join("\n") + "\n");
    return 0;
  }
  if (command !== "rules") return null;
  const [verb, ...args] = rest;
  if (verb === undefined) {
    const res = await call("GET", "/moderation/rules");
    if (res.status !== 200) {
      console.error(`rules: ${res.status} ${reasonOf(res.text)}`);
      return 1;
    }
    const { rules } = JSON.parse(res.text) as { rules: Rule[] };
    if (rules.length === 0) console.log("no rules");
    for (const r of rules) console.log(describeRule(r));
    return 0;
  }
  if (verb === "remove") {
    return await each(
      args,
      (id) => call("DELETE", `/moderation/rules/${encodeURIComponent(id)}`),
      (id) => `removed rule ${id}`,
      "rule",
    );
  }
  if (verb === "add" || verb === "shorteners") {
    const parsed = ruleBody(args, verb === "add");
    if (!parsed.ok) {
      console.error(`${parsed.error}\n${RULES_USAGE}`);
      return 2;
    }
    const path = verb === "add"
      ? "/moderation/rules"
      : "/moderation/rules/shorteners";
    const res = await call("POST", path, parsed.body);
    if (res.status !== 200 && res.status !== 201) {
      console.error(`rules ${verb}: ${res.status} ${reasonOf(res.text)}`);
      return 1;
    }
    const answer = JSON.parse(res.text);
    const rules: Rule[] = verb === "add" ? [answer] : answer.rules;
    for (const r of rules) console.log(describeRule(r));
    return 0;
  }
  console.error(RULES_USAGE);
  return 2;
}
