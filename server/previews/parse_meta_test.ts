import assert from "node:assert/strict";
import {
  cleanText,
  decodeEntities,
  MAX_DESCRIPTION_LENGTH,
  MAX_TITLE_LENGTH,
  parseMeta,
} from "./parse_meta.ts";

Deno.test("parseMeta prefers Open Graph, falls back to <title> and meta description, and reads only the head", () => {
  assert.deepEqual(
    parseMeta(`<html><head><title> Plain
      title </title><meta name="description" content='Said plainly'>
      <!-- <meta property="og:title" content="commented out"> -->
      <meta content="/relative.png" property="og:image">
      </head><body><meta property="og:site_name" content="body"></body>`),
    {
      title: "Plain title",
      description: "Said plainly",
      image: null,
      site: null,
    },
  );
  assert.deepEqual(
    parseMeta(`<head><META PROPERTY="og:title" CONTENT="OG &amp; co">
      <meta property=og:description content=unquoted>
      <meta property="og:image" content="https://cdn.example/a.png?x=1&amp;y=2">
      <meta property="og:site_name" content="Site&#x21;"><title>No</title>`),
    {
      title: "OG & co",
      description: "unquoted",
      image: "https://cdn.example/a.png?x=1&y=2",
      site: "Site!",
    },
  );
  // Images only as absolute http(s) URLs.
  for (const image of ["javascript:alert(1)", "data:image/png,xx", "//x.y/a"]) {
    assert.equal(
      parseMeta(`<meta property="og:image" content="${image}">`).image,
      null,
    );
  }
});

Deno.test("cleanText decodes entities, drops controls, collapses space and cuts long text", () => {
  assert.equal(
    decodeEntities("&lt;b&gt; &#65;&#x42; &unknown; &#0;"),
    "<b> AB &unknown; \ufffd",
  );
  assert.equal(cleanText("a\u0000b\n\t c", 10), "a b c");
  assert.equal(cleanText("   ", 10), null);
  const long = cleanText("é".repeat(500), MAX_TITLE_LENGTH)!;
  assert.equal([...long].length, MAX_TITLE_LENGTH);
  assert.ok(long.endsWith("…"));
  assert.equal(
    [...cleanText("x".repeat(1000), MAX_DESCRIPTION_LENGTH)!].length,
    MAX_DESCRIPTION_LENGTH,
  );
});
