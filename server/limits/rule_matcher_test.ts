import assert from "node:assert/strict";
import { compileRules } from "./rule_matcher.ts";
import type { Rule, RuleAction } from "../../protocol/rules.ts";
import {
  canonicalDomain,
  canonicalWords,
  validateRuleInput,
} from "../../protocol/rules.ts";
import { foldText } from "../../protocol/fold.ts";

let nextId = 1;
function rule(
  kind: "word" | "domain",
  raw: string,
  action: RuleAction = "refuse",
  substring = false,
): Rule {
  const pattern = kind === "word" ? canonicalWords(raw) : canonicalDomain(raw);
  assert.ok(pattern !== null, raw);
  return {
    id: nextId++,
    kind,
    pattern,
    substring,
    action,
    muteMinutes: action === "mute" ? 5 : null,
    reason: null,
    createdAt: "2026-12-06T00:00:00.000Z",
  };
}

const matched = (rules: Rule[], text: string) =>
  compileRules(rules).match(text)?.rule.id ?? null;

Deno.test("folding: case, NFKC, look-alike letters, accents and invisible characters", () => {
  assert.equal(foldText("SPAM"), "spam");
  // Fullwidth and mathematical letters (NFKC), as names are folded.
  assert.equal(foldText("ｓｐａｍ"), "spam");
  assert.equal(foldText("𝐬𝐩𝐚𝐦"), "spam");
  // Cyrillic а, о, р, с and е, in both cases, pass for Latin ones.
  assert.equal(foldText("ѕраm"), "spam");
  assert.equal(foldText("СОРЕ"), "cope");
  // Greek omicron and a dotless i.
  assert.equal(foldText("nοıse"), "noise");
  assert.equal(foldText("spàm"), "spam");
  assert.equal(foldText("sp\u200bam"), "spam");
  // Digits stay digits.
  assert.equal(foldText("sp4m 0"), "sp4m 0");
  // Vowel signs of other scripts are kept.
  assert.equal(foldText("हिंदी"), "हिंदी");
});

Deno.test("a word rule matches whole words after folding, not inside other words", () => {
  const ass = rule("word", "ass");
  assert.equal(matched([ass], "what an ass"), ass.id);
  assert.equal(matched([ass], "What an ASS!"), ass.id);
  assert.equal(matched([ass], "what an аѕѕ"), ass.id, "Cyrillic look-alikes");
  assert.equal(matched([ass], "what an ａｓｓ"), ass.id, "fullwidth");
  assert.equal(matched([ass], "a\u200bss"), ass.id, "split by nothing visible");
  assert.equal(matched([ass], "class assessment"), null);
  assert.equal(matched([ass], "(ass)"), ass.id);
  assert.equal(matched([ass], "no match here"), null);
});

Deno.test("a substring rule matches inside words", () => {
  const sub = rule("word", "ass", "refuse", true);
  assert.equal(matched([sub], "first class"), sub.id);
  assert.equal(matched([sub], "first cl ass"), sub.id);
  assert.equal(matched([sub], "first clas"), null);
});

Deno.test("a phrase matches its words in a row, whatever lies between them", () => {
  const phrase = rule("word", "Buy  now!");
  assert.equal(phrase.pattern, "buy now");
  assert.equal(matched([phrase], "please BUY, now"), phrase.id);
  assert.equal(matched([phrase], "buy\nnow"), phrase.id);
  assert.equal(matched([phrase], "buy it now"), null);
  assert.equal(matched([phrase], "buynow"), null);
  assert.equal(matched([phrase], "rebuy nowhere"), null);
  // Phrases that share a prefix or overlap (the automaton's fail links).
  const a = rule("word", "free money now");
  const b = rule("word", "money now please");
  assert.equal(matched([a, b], "get free money now please"), a.id);
  assert.equal(matched([a, b], "more money now please"), b.id);
  assert.equal(matched([a, b], "free money please"), null);
});

Deno.test("a domain rule matches the domain and its subdomains in links only", () => {
  const bitly = rule("domain", "bit.ly");
  assert.equal(matched([bitly], "see https://bit.ly/abc"), bitly.id);
  assert.equal(matched([bitly], "see http://WWW.Bit.Ly/abc"), bitly.id);
  assert.equal(matched([bitly], "see https://a.b.bit.ly./x"), bitly.id);
  assert.equal(matched([bitly], "see https://notbit.ly/abc"), null);
  assert.equal(matched([bitly], "see https://bit.ly.example.com/"), null);
  assert.equal(matched([bitly], "bit.ly is a shortener"), null, "not a link");
  // A rule on a top-level domain covers every name under it.
  const zip = rule("domain", "zip");
  assert.equal(matched([zip], "open https://files.example.zip now"), zip.id);
  // Internationalised names compare in their ASCII form.
  const idn = rule("domain", "bücher.example");
  assert.equal(idn.pattern, "xn--bcher-kva.example");
  assert.equal(matched([idn], "https://shop.bücher.example/"), idn.id);
});

Deno.test("the strongest action wins: mute over refuse over hold", () => {
  const hold = rule("word", "spam", "hold");
  const refuse = rule("domain", "spam.example", "refuse");
  const mute = rule("word", "scam now", "mute");
  const text = "spam https://spam.example scam now";
  assert.equal(matched([hold, refuse, mute], text), mute.id);
  assert.equal(matched([hold, refuse], text), refuse.id);
  assert.equal(matched([hold], text), hold.id);
  assert.equal(compileRules([]).match(text), null);
});

Deno.test("a thousand rules compile into one matcher that still finds each", () => {
  const rules = Array.from(
    { length: 1000 },
    (_, i) =>
      i % 3 === 0
        ? rule("domain", `d${i}.example`)
        : rule("word", i % 3 === 1 ? `word${i}` : `two words${i}`),
  );
  const matcher = compileRules(rules);
  assert.equal(matcher.size, 1000);
  assert.equal(matcher.match("nothing to see")?.rule ?? null, null);
  assert.equal(matcher.match("a WORD1 here")?.rule.id, rules[1].id);
  assert.equal(matcher.match("two  words998")?.rule.id, rules[998].id);
  assert.equal(
    matcher.match("https://x.d999.example/")?.rule.id,
    rules[999].id,
  );
});

Deno.test("rule input: canonical patterns, and bad input refused with a reason", () => {
  const ok = validateRuleInput({
    word: "  Ｂuy   NOW ",
    action: "mute",
    minutes: "10",
  });
  assert.deepEqual(ok, {
    ok: true,
    value: {
      kind: "word",
      pattern: "buy now",
      substring: false,
      action: "mute",
      muteMinutes: 10,
      reason: null,
    },
  });
  const domain = validateRuleInput({
    domain: "https://*.Bit.ly/path",
    action: "hold",
  });
  assert.equal(domain.ok && domain.value.pattern, "bit.ly");
  for (
    const bad of [
      null,
      [],
      {},
      { word: "x", domain: "y.z", action: "refuse" },
      { word: "!!!", action: "refuse" },
      { word: "x", action: "delete" },
      { word: "x", action: "mute" },
      { word: "x", action: "mute", minutes: 0 },
      { word: "x", action: "refuse", minutes: 5 },
      { domain: "not a host", action: "refuse" },
      { domain: "a.b", action: "refuse", substring: true },
      { word: "x".repeat(201), action: "refuse" },
      { word: "x", action: "refuse", reason: "a\u0007b" },
      { word: "x", action: "refuse", extra: 1 },
      { word: "\ud800", action: "refuse" },
    ]
  ) {
    const checked = validateRuleInput(bad);
    assert.equal(checked.ok, false, JSON.stringify(bad));
  }
});
