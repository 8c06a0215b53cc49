/**
 * Light markdown for message text, built as Preact elements with plain
 * text children: never an HTML string, so nothing in a message becomes
 * markup. The stored text stays as typed; only the log renders this.
 *
 * Our own, and small on purpose: messages render on first paint, so this is
 * in the main bundle. marked 18.3.0 alone is 16.6 KB gzipped and
 * markdown-it 15.0.3 is 41.9 KB (esbuild --minify, gzip -9), more than the
 * whole 16 KiB budget, and both produce HTML strings.
 *
 * Linear in the text: each line is looked at a bounded number of times
 * (a fence's closing line is searched for once; once none is found, never
 * again), the inline tokenizer never moves back, each backtick run is taken
 * off its list at most once, and at most four frames are ever open.
 */
import { type ComponentChildren, h } from "preact";
import { LINK } from "../protocol/links.ts";

// Groups: 1 an escaped markdown character, 2 a backtick run, 3 a run of
// "*" or "_", 4 a link (linkify's rule, unchanged).
const INLINE = new RegExp(
  "\\\\([\\\\`*_>])|(`+)|(\\*+|_+)|" + LINK.source,
  "giu",
);
// A letter, digit or underscore: "*" and "_" inside a word stay literal,
// so snake_case and 2*3*4 do.
const WORD = /[\p{L}\p{N}_]/u;
const SPACE = /\s/;

// An open emphasis: its marker and what is inside it so far.
type Frame = [marker: string, kids: ComponentChildren[]];

/** The text of one paragraph or quote as text, em, strong, code and links. */
export function inline(s: string): ComponentChildren[] {
  // Where each backtick run starts, by its length, last first: a code span
  // ends at the next run of the same length.
  const runs: Record<number, number[]> = {};
  for (const m of s.matchAll(/`+/g)) (runs[m[0].length] ||= []).push(m.index);
  for (const n in runs) runs[n].reverse();
  const stack: Frame[] = [["", []]];
  let kids = stack[0][1];
  let last = 0;
  // Closes the innermost frame: its marker was not matched, so it is text.
  const drop = () => {
    const [marker, inner] = stack.pop()!;
    (kids = stack.at(-1)![1]).push(marker, ...inner);
  };
  INLINE.lastIndex = 0;
  for (let m; (m = INLINE.exec(s));) {
    const [token, escaped, ticks, marker, url] = m;
    const p = m.index;
    if (p > last) kids.push(s.slice(last, p));
    last = INLINE.lastIndex;
    if (escaped) kids.push(escaped);
    else if (url) {
      kids.push(
        h(
          "a",
          { href: url, target: "_blank", rel: "noreferrer nofollow" },
          url,
        ),
      );
    } else if (ticks) {
      const list = runs[ticks.length] || [];
      while (list.at(-1)! <= p) list.pop();
      const end = list.pop();
      // Unclosed: the backticks are text.
      if (end === undefined) kids.push(ticks);
      else {
        kids.push(h("code", null, s.slice(last, end)));
        INLINE.lastIndex = last = end + ticks.length;
      }
    } else if (marker.length > 2 || marker === "__") kids.push(token);
    else {
      const before = s[p - 1] || " ";
      const after = s[last] || " ";
      const open = stack.findIndex((f) => f[0] === marker);
      if (
        open > 0 && !SPACE.test(before) && !WORD.test(after) &&
        (stack.length > open + 1 || kids.length)
      ) {
        while (stack.length > open + 1) drop();
        const inner = stack.pop()![1];
        (kids = stack.at(-1)![1]).push(
          h(marker[1] ? "strong" : "em", null, inner),
        );
      } else if (open < 0 && !SPACE.test(after) && !WORD.test(before)) {
        stack.push([marker, kids = []]);
      } else kids.push(marker);
    }
  }
  if (last < s.length) kids.push(s.slice(last));
  while (stack[1]) drop();
  return kids;
}

/**
 * A message as elements: runs of lines starting "> " are a blockquote,
 * lines between ``` fences are a preformatted block, the rest keeps its
 * line breaks (the bubble's CSS shows them).
 */
export function markdown(text: string): ComponentChildren[] {
  const lines = text.split(/\r\n?|\n/);
  // [kind, lines]: kind "" is text, ">" a quote, "`" a code block.
  const blocks: [string, string[]][] = [];
  let closable = true;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    let kind = "";
    if (closable && /^```\S*\s*$/.test(line)) {
      let end = i + 1;
      while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
      if (end < lines.length) {
        blocks.push(["`", lines.slice(i + 1, end)]);
        i = end;
        continue;
      }
      // No closing fence after this line, so none after any later one.
      closable = false;
    }
    if (/^>( |$)/.test(line)) {
      kind = ">";
      line = line.slice(2);
    }
    const b = blocks.at(-1);
    if (b?.[0] === kind) b[1].push(line);
    else blocks.push([kind, [line]]);
  }
  return blocks.map(([kind, ls]) => {
    const s = ls.join("\n");
    return kind === "`"
      // Focusable: a long line scrolls sideways, by keyboard too.
      ? h("pre", { tabindex: 0 }, h("code", null, s))
      : kind
      ? h("blockquote", null, inline(s))
      : inline(s);
  });
}
