import assert from "node:assert/strict";
import type { ComponentChildren, VNode } from "preact";
import { inline, markdown } from "./markdown.ts";

/**
 * What the elements would look like as HTML: tags for elements (with their
 * attributes), text escaped. So "<script>" in a message shows here as
 * "&lt;script>", and only a real element prints a tag.
 */
function html(children: ComponentChildren): string {
  if (Array.isArray(children)) return children.map(html).join("");
  if (children == null || typeof children === "boolean") return "";
  if (typeof children !== "object") {
    return String(children).replace(/&/g, "&amp;").replace(/</g, "&lt;");
  }
  const { type, props } = children as VNode<Record<string, unknown>>;
  assert.equal(typeof type, "string", "only plain elements");
  const attrs = Object.entries(props)
    .filter(([k]) => k !== "children")
    .map(([k, v]) => ` ${k}="${v}"`).join("");
  // Elements carry text, never markup.
  assert.ok(!("dangerouslySetInnerHTML" in props));
  return `<${type}${attrs}>${
    html(props.children as ComponentChildren)
  }</${type as string}>`;
}

const md = (text: string) => html(markdown(text));
const A = (url: string) =>
  `<a href="${url}" target="_blank" rel="noreferrer nofollow">${url}</a>`;

Deno.test("markdown: emphasis, strong and code", () => {
  assert.equal(md("a *em* b"), "a <em>em</em> b");
  assert.equal(md("a _em_ b"), "a <em>em</em> b");
  assert.equal(md("a **strong** b"), "a <strong>strong</strong> b");
  assert.equal(md("(*em*), **x**!"), "(<em>em</em>), <strong>x</strong>!");
  assert.equal(
    md("**bold *and em* bold**"),
    "<strong>bold <em>and em</em> bold</strong>",
  );
  assert.equal(
    md("*em **strong** em*"),
    "<em>em <strong>strong</strong> em</em>",
  );
  assert.equal(md("run `ls -la *.ts`"), "run <code>ls -la *.ts</code>");
  // Longer runs take backticks inside; a run only closes with its length.
  assert.equal(md("``a ` b``"), "<code>a ` b</code>");
  assert.equal(md("`a`` b` c"), "<code>a`` b</code> c");
  assert.equal(md("```one line```"), "<code>one line</code>");
});

Deno.test("markdown: markers inside words, around spaces, or empty stay text", () => {
  for (
    const text of [
      "snake_case_name",
      "__init__ and __main__",
      "2*3*4 = 24",
      "a * b * c",
      "a _ b _ c",
      "* not a list",
      "**** and ____",
      "***three*** stays",
      "_a_b",
      "foo**bar**",
    ]
  ) {
    assert.equal(md(text), text.replace(/&/g, "&amp;"), text);
  }
});

Deno.test("markdown: code is literal: no links, emphasis or escapes inside", () => {
  assert.equal(
    md("`*a* **b** https://x.test \\* <b>`"),
    "<code>*a* **b** https://x.test \\* &lt;b></code>",
  );
  assert.equal(
    md("```\n*a* https://x.test\n  <i>indented</i>\n\\`\n```"),
    '<pre tabindex="0"><code>*a* https://x.test\n  &lt;i>indented&lt;/i>\n\\`</code></pre>',
  );
  // A language word after the fence is ignored.
  assert.equal(
    md("```ts\nconst a = 1;\n```"),
    '<pre tabindex="0"><code>const a = 1;</code></pre>',
  );
});

Deno.test("markdown: links as linkify finds them, inside emphasis too", () => {
  assert.equal(
    md("see https://x.test/a_b_c."),
    `see ${A("https://x.test/a_b_c")}.`,
  );
  assert.equal(
    md("**https://x.test/a** _http://y.test_"),
    `<strong>${A("https://x.test/a")}</strong> <em>${A("http://y.test")}</em>`,
  );
  // The link wins over markers inside it.
  assert.equal(md("https://x.test/*a*"), A("https://x.test/*a") + "*");
});

Deno.test("markdown: a backslash shows the next markdown character as it is", () => {
  assert.equal(md("\\*not em\\*"), "*not em*");
  assert.equal(md("\\_a\\_ \\`b\\` \\\\"), "_a_ `b` \\");
  assert.equal(md("\\> not a quote"), "> not a quote");
  assert.equal(md("\\*a*"), "*a*");
  assert.equal(md("*a\\*"), "*a*");
  // Before anything else a backslash is just a backslash.
  assert.equal(md("C:\\Users\\ada"), "C:\\Users\\ada");
});

Deno.test("markdown: unclosed markers stay text", () => {
  for (
    const text of [
      "*a",
      "a*",
      "**a",
      "a**",
      "_a",
      "`a",
      "``a`",
      "**a*",
      "*a **b",
    ]
  ) {
    assert.equal(md(text), text, text);
  }
  assert.equal(md("**a *b**"), "<strong>a *b</strong>");
  assert.equal(md("*a **b*"), "<em>a **b</em>");
  // An unclosed fence is text; its backticks may still make inline code.
  assert.equal(md("```\ncode"), "```\ncode");
  assert.equal(md("```js\na\n``"), "```js\na\n``");
});

Deno.test("markdown: quotes and fenced blocks; other lines keep their breaks", () => {
  assert.equal(
    md("> quoted *em*\n>\n> more\nreply\nline two"),
    "<blockquote>quoted <em>em</em>\n\nmore</blockquote>reply\nline two",
  );
  assert.equal(md(">no space"), ">no space");
  assert.equal(
    md("before\n```\n  keep   spaces\n\n```\nafter"),
    'before<pre tabindex="0"><code>  keep   spaces\n</code></pre>after',
  );
  assert.equal(
    md("```\na\n```\n```\nb\n```"),
    '<pre tabindex="0"><code>a</code></pre><pre tabindex="0"><code>b</code></pre>',
  );
  // Emphasis does not run across blocks.
  assert.equal(md("*a\n> b*"), "*a<blockquote>b*</blockquote>");
});

Deno.test("markdown: CRLF and CR line ends read as LF", () => {
  assert.equal(
    md("a\r\n> q\r\n```\r\nx\r\n```\r\nb\rc"),
    'a<blockquote>q</blockquote><pre tabindex="0"><code>x</code></pre>b\nc',
  );
});

Deno.test("markdown: hostile input stays text", () => {
  assert.equal(
    md("<script>alert(1)</script> <img src=x onerror=alert(1)>"),
    "&lt;script>alert(1)&lt;/script> &lt;img src=x onerror=alert(1)>",
  );
  assert.equal(
    md("**[x](javascript:alert(1))**"),
    "<strong>[x](javascript:alert(1))</strong>",
  );
  assert.equal(
    md("*javascript:alert(1)* [a](https://x.test) ![i](https://x.test/i.png)"),
    `<em>javascript:alert(1)</em> [a](${A("https://x.test")}) ![i](${
      A("https://x.test/i.png")
    })`,
  );
  assert.equal(md("`</code><script>`"), "<code>&lt;/code>&lt;script></code>");
  assert.equal(md("&lt;b&gt;"), "&amp;lt;b&amp;gt;");
  // Nothing in the text reaches an attribute but a linkified http(s) URL.
  assert.equal(
    md('https://x.test/"onmouseover="x'),
    `${A("https://x.test/")}"onmouseover="x`,
  );
});

/**
 * Counts the characters the parser's regular expressions look at: every
 * loop in client/markdown.ts runs on one of them (exec, test, split,
 * matchAll all go through RegExp.prototype.exec), so this is its work,
 * whatever the machine's speed.
 */
function work(fn: () => void): number {
  const exec = RegExp.prototype.exec;
  let chars = 0;
  RegExp.prototype.exec = function (this: RegExp, s: string) {
    const from = this.global || this.sticky ? this.lastIndex : 0;
    const m = exec.call(this, s);
    // A sticky one (split's) looks only where it stands.
    const to = m ? m.index + m[0].length : this.sticky ? from : s.length;
    chars += 1 + to - from;
    return m;
  };
  try {
    fn();
  } finally {
    RegExp.prototype.exec = exec;
  }
  return chars;
}

Deno.test("markdown: work grows linearly with hostile repetition", () => {
  const SIZE = 4000;
  const hostile = [
    "*",
    "`",
    "_",
    "* ",
    "*a ",
    "` ``",
    "**a *b ",
    "\\",
    "> ",
    "```x\n",
    "```\n",
    "a_",
    "https://x.test/*",
  ];
  // Backtick runs of every length, none closed.
  let ladder = "";
  for (let n = 1; ladder.length < SIZE; n++) ladder += "`".repeat(n) + " ";
  for (const unit of hostile) {
    const text = unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);
    const small = work(() => markdown(text.slice(0, SIZE / 4)));
    const big = work(() => markdown(text));
    // Four times the text, a little over four times the work; a search
    // from every marker would be about sixteen times.
    assert.ok(big < 5 * small, `${JSON.stringify(unit)}: ${small} -> ${big}`);
    assert.ok(big < 20 * SIZE, `${JSON.stringify(unit)}: ${big}`);
  }
  const small = work(() => markdown(ladder.slice(0, SIZE / 4)));
  const big = work(() => markdown(ladder));
  assert.ok(big < 20 * SIZE, `ladder: ${small} -> ${big}`);
  // And the result is still the text.
  assert.equal(md("*".repeat(SIZE)), "*".repeat(SIZE));
  assert.equal(md("`".repeat(SIZE)), "`".repeat(SIZE));
});

Deno.test("inline: joined, the text parts give back the text when nothing is markdown", () => {
  const text = "plain words, a:b; c/d (e) [f] {g} #h ~i~ |j| 1.5 @ada";
  assert.deepEqual(inline(text), [text]);
});
