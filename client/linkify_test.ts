import assert from "node:assert/strict";
import { linkify } from "./linkify.ts";

function links(text: string): string[] {
  return linkify(text).filter((_, i) => i % 2 === 1);
}

Deno.test("linkify: parts alternate text and links and join back to the text", () => {
  const text = "a https://x.test/1 b http://y.test c";
  const parts = linkify(text);
  assert.deepEqual(parts, [
    "a ",
    "https://x.test/1",
    " b ",
    "http://y.test",
    " c",
  ]);
  assert.equal(parts.join(""), text);
  assert.deepEqual(linkify("no links here"), ["no links here"]);
  assert.deepEqual(linkify(""), [""]);
});

Deno.test("linkify: trailing punctuation stays outside the link", () => {
  for (const tail of [".", ",", "!", "?", ")", ").", ":", ";", "'", '"', "]"]) {
    assert.deepEqual(
      links(`see https://x.test/a${tail}`),
      ["https://x.test/a"],
      tail,
    );
  }
  assert.deepEqual(links("(https://x.test/wiki/Foo)"), [
    "https://x.test/wiki/Foo",
  ]);
  // Markdown's markers around a link stay outside it.
  assert.deepEqual(links("**https://x.test/a** _https://y.test_"), [
    "https://x.test/a",
    "https://y.test",
  ]);
  // Inside the URL, punctuation is kept.
  assert.deepEqual(links("https://x.test/a.b?c=1,2&d=(e)f"), [
    "https://x.test/a.b?c=1,2&d=(e)f",
  ]);
});

Deno.test("linkify: only http and https, only at a word start, never bare", () => {
  assert.deepEqual(
    links(
      "javascript:alert(1) data:text/html,x ftp://f.test mailto:a@b.test " +
        "xhttps://no.test https:// http://",
    ),
    [],
  );
  assert.deepEqual(links("HTTPS://LOUD.TEST"), ["HTTPS://LOUD.TEST"]);
  // Quotes and angle brackets end a link; they could never be in an href.
  assert.deepEqual(links('<https://x.test/a>"https://y.test"'), [
    "https://x.test/a",
    "https://y.test",
  ]);
  assert.deepEqual(links("https://münchen.test/straße"), [
    "https://münchen.test/straße",
  ]);
});

Deno.test("linkify: an invisible format character (a bidi control, a zero width) ends a link", () => {
  // Shown with its U+202E, "https://x.test/\u202egpj.exe" reads as
  // ".../exe.jpg" while its href ends in "gpj.exe".
  for (const c of ["\u202e", "\u2066", "\u200f", "\u200b", "\u00ad"]) {
    const text = `get https://x.test/${c}gpj.exe now`;
    assert.deepEqual(links(text), ["https://x.test/"], JSON.stringify(c));
    assert.equal(linkify(text).join(""), text);
  }
  assert.deepEqual(links("\u202ehttps://x.test/a\u202c"), ["https://x.test/a"]);
});
