/** The generator of hostile names and texts: bidi controls, invisibles, look-alikes, stacked marks. */
import { encoder } from "./bytes.ts";
import type { Case, GenContext } from "./cases.ts";
import { postCase } from "./requests.ts";
import type { Rng } from "./rng.ts";
import { FORM_TYPES, formOf, JSON_TYPES, messageFields } from "./text_pools.ts";

/** Bidirectional controls: refused in names, kept in text. */
// deno-fmt-ignore
const BIDI = [
  "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
  "\u2068", "\u2069", "\u200e", "\u200f", "\u061c",
];
/** Default-ignorable characters that no context makes visible: refused in names. */
// deno-fmt-ignore
const INVISIBLE = [
  "\u200b", "\u2060", "\u2061", "\u206f", "\u180e", "\u034f", "\u3164",
  "\u115f", "\u1160", "\uffa0", "\u00ad", "\ufeff", "\ufe00", "\u17b4",
  "\u{e0001}", "\u{e0041}", "\u{e0fff}", "\u2800",
];
/** Look-alikes of Latin letters (Cyrillic, Greek) and compatibility forms NFKC folds. */
// deno-fmt-ignore
const CONFUSABLE = [
  "\u0430", "\u0435", "\u043e", "\u0440", "\u0441", "\u03bf", "\u0391",
  "\uff41\uff44\uff41", "\u{1d41a}", "\ufb01", "\u24b6", "\u337f", "\u00a0",
];
/** Joiners and selectors in the places where they draw something: allowed. */
// deno-fmt-ignore
const JOINED = [
  "\u{1f3f3}\ufe0f\u200d\u{1f308}", "\u2764\ufe0f", "#\ufe0f\u20e3",
  "\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}",
  "\u0dc1\u0dca\u200d\u0dbb\u0dd3", "\u845b\u{e0100}",
];
const MARKS = "\u0301\u0323\u0302\u0308\u0307\u0330\u0331\u0332";

/** A piece of a hostile name or text: one of the classes above, or a stack of marks. */
function hostilePiece(g: Rng): string {
  const pool = g.pick([BIDI, INVISIBLE, CONFUSABLE, JOINED, null]);
  if (pool !== null) return g.pick(pool);
  const n = g.pick([1, 2, 3, 4, 5, 6, 7, 8, 30]);
  return g.pick(["x", "a", " ", ""]) +
    Array.from({ length: n }, (_, i) => MARKS[i % MARKS.length]).join("");
}

/** Splices 1–3 hostile pieces into `s` (or makes it of them alone). */
function withHostile(g: Rng, s: string): string {
  let out = g.chance(0.15) ? "" : s;
  for (let i = g.int(1, 3); i > 0; i--) {
    const at = g.int(0, out.length);
    // Keep surrogate pairs whole.
    const cut = /[\udc00-\udfff]/.test(out[at] ?? "") ? at - 1 : at;
    out = out.slice(0, cut) + hostilePiece(g) + out.slice(cut);
  }
  return out;
}

/** Names and texts with bidi controls, invisibles, look-alikes and stacked marks. */
export function genHostileText(g: Rng, ctx: GenContext): Case {
  const fields = messageFields(g, ctx);
  const where = g.pick(["author", "text", "both"]);
  if (where !== "text") fields.author = withHostile(g, fields.author ?? "");
  if (where !== "author") fields.text = withHostile(g, fields.text ?? "");
  const typing = g.chance(0.2);
  if (typing) delete fields.text;
  const asForm = g.chance(0.35);
  return postCase(
    g,
    ctx,
    "hostile-text",
    typing ? "/typing" : "/messages",
    g.pick(asForm ? FORM_TYPES : JSON_TYPES),
    encoder.encode(asForm ? formOf(fields) : JSON.stringify(fields)),
    { raw: g.chance(0.1) },
  );
}
