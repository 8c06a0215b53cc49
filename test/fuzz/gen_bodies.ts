/** Generators of broken bodies: JSON garbage, invalid UTF-8, odd forms, fuzzed /typing. */
import { type Bytes, bytesOf, encoder, indexOfBytes } from "./bytes.ts";
import type { Case, GenContext } from "./cases.ts";
import { ODD_TYPES } from "./gen_headers.ts";
import { postCase } from "./requests.ts";
import type { Rng } from "./rng.ts";
import {
  FORM_TYPES,
  formOf,
  JSON_TYPES,
  messageFields,
  messageText,
  randomText,
  validAuthor,
} from "./text_pools.ts";

// deno-fmt-ignore
const SCALARS = [
  "null", "true", "false", "0", "-0", "1e400", "-1e400",
  "123456789012345678901234567890", "0.0000000000000000000000001",
  "1E+999999999", "9".repeat(5000), '""', '" "', '"\\u0000"', '"\\ud800"',
  '"\\udc00\\ud800"', '"a\\u0000b"', '"\\u2028"', '"\\t"', '"\\n"', '"\\u0061"',
  '"e\\u0301"', "[]", '["a"]', "{}", '{"toString":"x"}', `"${"x".repeat(33)}"`,
  `"${"y".repeat(2001)}"`, '"ok"',
];

// deno-fmt-ignore
const JSON_LITERALS = [
  "", " ", "\n", "\ufeff", "NaN", "Infinity", "undefined", "null", "true", "0",
  '"string"', "[]", "{}", '{"author":"a","text":"b"', "{author:'a',text:'b'}",
  '{"author":"a","text":"b",}', '{"author":"a" "text":"b"}',
  '/*c*/{"author":"a","text":"b"}', '{"author":"a","text":"b"}garbage',
  '{"author":"a","text":"b"}{"author":"a","text":"b"}',
  '[{"author":"a","text":"b"}]', '{"author":"a","text":"b"}\u0000',
  "\ufeff" + '{"author":"bom","text":"with a byte order mark"}',
  '  \n\t{"author":"ws","text":"padded with whitespace"}\r\n ',
  '{"__proto__":{"author":"a","text":"b"}}',
  '{"constructor":{"prototype":{"author":"a"}},"text":"b"}',
  '{"author":"first","author":"second","text":"duplicate keys"}',
  '{"Author":"a","TEXT":"b"}', '{"author":"a","text":"b","clientId":""}',
  '{"author":"a","text":"b","clientId":"not-a-uuid"}',
  '{"author":"a","text":"b","clientId":123}',
  '{"author":"a","text":"b","clientId":"{12345678-1234-4234-a234-123456789abc}"}',
  '{"author":"a","text":"b","clientId":"123456781234423' +
  '4a234123456789abc"}',
  '{"author":"a","text":"b","clientId":"12345678-1234-4234-a234-123456789abc\\n"}',
  '{"author":"\\u0061\\u0301","text":"\\u00e9\\u0301"}',
];

/** Bodies that are JSON-ish but broken, nested, huge-numbered or the wrong shape. */
function jsonGarbage(g: Rng, ctx: GenContext): string {
  const maker = g.pick(
    [
      "truncated",
      "nested-array",
      "nested-object",
      "nested-field",
      "numbers",
      "literal",
      "shape",
      "shape",
    ] as const,
  );
  switch (maker) {
    case "truncated": {
      const whole = JSON.stringify(messageFields(g, ctx));
      return whole.slice(0, g.int(0, whole.length - 1));
    }
    case "nested-array": {
      const n = g.pick([10, 100, 1000, 5000, 8000, 8192, 9000]);
      const close = g.chance(0.8) ? n : g.int(0, n);
      return "[".repeat(n) + "]".repeat(close);
    }
    case "nested-object": {
      const n = g.pick([10, 100, 1000, 1400, 2000]);
      return '{"author":'.repeat(n) + '"x"' + "}".repeat(n);
    }
    case "nested-field": {
      const n = g.pick([10, 1000, 5000]);
      return `{"author":"nest","text":${"[".repeat(n)}"deep"${"]".repeat(n)}}`;
    }
    case "numbers":
      return `{"author":${g.pick(SCALARS)},"text":${g.pick(SCALARS)}${
        g.chance(0.3) ? `,"clientId":${g.pick(SCALARS)}` : ""
      }}`;
    case "literal":
      return g.pick(JSON_LITERALS);
    case "shape": {
      // Keys and values from pools: mostly invalid, sometimes a valid post.
      const parts: string[] = [];
      for (const key of ["author", "text", "clientId", "extra"]) {
        if (g.chance(key === "extra" || key === "clientId" ? 0.3 : 0.85)) {
          const value = g.chance(0.5)
            ? JSON.stringify(
              key === "author"
                ? validAuthor(g)
                : key === "clientId"
                ? g.uuid()
                : messageText(g, 0.1),
            )
            : g.pick(SCALARS);
          parts.push(`${JSON.stringify(key)}:${value}`);
        }
      }
      return `{${parts.join(",")}}`;
    }
  }
}

/** POST /messages with a broken, deep, oddly numbered or misshapen JSON body. */
export function genJsonGarbage(g: Rng, ctx: GenContext): Case {
  return postCase(
    g,
    ctx,
    "json-garbage",
    "/messages",
    g.pick(JSON_TYPES),
    encoder.encode(jsonGarbage(g, ctx)),
    { raw: g.chance(0.1) },
  );
}

const BAD_UTF8: readonly (readonly number[])[] = [
  [0xff],
  [0xfe],
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80], // an encoded surrogate
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
  [0xf5, 0x80, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80], // a lone continuation byte
  [0xbf],
  [0xe2, 0x82], // truncated sequences
  [0xf0, 0x9f, 0x98],
  [0xc3],
  [0xe9], // Latin-1 é
];

/** A post whose body has a byte sequence that is not UTF-8 spliced in. */
export function genInvalidUtf8(g: Rng, ctx: GenContext): Case {
  const fields = messageFields(g, ctx);
  const asForm = g.chance(0.35);
  const valid = encoder.encode(
    asForm ? formOf(fields) : JSON.stringify(fields),
  );
  // Inside the text, anywhere, or at the very end (a truncated sequence).
  const bad = g.pick(BAD_UTF8);
  const textAt = indexOfBytes(
    valid,
    encoder.encode(asForm ? "text=" : '"text":"'),
  );
  const at = g.weighted([
    [textAt === -1 ? valid.length : textAt + (asForm ? 5 : 8), 3],
    [g.int(0, valid.length), 2],
    [valid.length, 1],
  ]);
  const body = bytesOf(valid.subarray(0, at), bad, valid.subarray(at));
  return postCase(
    g,
    ctx,
    "invalid-utf8",
    g.chance(0.85) ? "/messages" : "/typing",
    g.pick(asForm ? FORM_TYPES : JSON_TYPES),
    body,
    { raw: g.chance(0.2) },
  );
}

// deno-fmt-ignore
const FORM_VALUES = [
  "%FF", "%E9t%E9", "%C3%A9", "caf%C3%A9", "%00", "a%00b", "a%0Ab", "a%0D%0Ab",
  "%", "%Z1", "%%", "100%", "%2525", "a%2Bb", "a+b+c", "+", "", "%20%20",
  "%F0%9F%98%80", "%ED%A0%80", "%C0%80", "%E2%80%A8", "%EF%BB%BF",
  "a%26text%3Dinjected",
  "é", // raw UTF-8, not percent-encoded
  "😀", "x".repeat(2001), "%61".repeat(33),
];
// deno-fmt-ignore
const FORM_KEYS = [
  "author", "text", "clientId", "AUTHOR", "%61uthor", "te%78t", "author%00", "",
  "author[]", "text.0", "author ",
];

/** A form post with odd keys, values, separators and percent escapes. */
export function genFormOdd(g: Rng, ctx: GenContext): Case {
  const pairs: string[] = [];
  if (g.chance(0.7)) {
    // A valid base so that the odd part decides the outcome.
    pairs.push(formOf(messageFields(g, ctx)));
  }
  const extra = g.chance(0.1) ? g.int(100, 2500) : g.int(1, 5);
  for (let i = 0; i < extra; i++) {
    const key = g.pick(FORM_KEYS);
    const value = g.chance(0.5)
      ? g.pick(FORM_VALUES)
      // Lone surrogates would make encodeURIComponent throw.
      : encodeURIComponent(
        randomText(g, g.int(1, 3), 0.2, true).toWellFormed(),
      );
    pairs.push(g.chance(0.1) ? key : `${key}=${value}`);
  }
  if (g.chance(0.3)) pairs.reverse();
  const separator = g.pick(["&", "&", "&", ";", "&&"]);
  let body: Bytes = encoder.encode(pairs.join(separator));
  if (g.chance(0.1)) body = bytesOf(body, "&text=", [0xff, 0xfe]);
  return postCase(
    g,
    ctx,
    "form-odd",
    g.chance(0.85) ? "/messages" : "/typing",
    g.pick([
      ...FORM_TYPES,
      "application/x-www-form-urlencoded; charset=ISO-8859-1",
      "application/x-www-form-urlencoded;;;",
    ]),
    body,
    { raw: g.chance(0.15) },
  );
}

/** POST /typing with a valid, hostile or broken body. */
export function genTyping(g: Rng, ctx: GenContext): Case {
  const asForm = g.chance(0.3);
  let body: Bytes;
  if (g.chance(0.5)) {
    const author = g.chance(0.8)
      ? validAuthor(g)
      : randomText(g, g.int(1, 4), 0.3, true);
    body = encoder.encode(
      asForm
        ? new URLSearchParams({ author }).toString()
        : JSON.stringify({ author }),
    );
  } else {
    body = encoder.encode(jsonGarbage(g, ctx));
  }
  return postCase(
    g,
    ctx,
    "typing",
    "/typing",
    g.chance(0.9)
      ? g.pick(asForm ? FORM_TYPES : JSON_TYPES)
      : g.pick(ODD_TYPES),
    body,
    { raw: g.chance(0.1) },
  );
}

/** Form bodies with a percent-encoded byte sequence that is not UTF-8 (sometimes one that is). */
export function genFormBadBytes(g: Rng, ctx: GenContext): Case {
  const pairs: [string, string][] = [];
  for (const [k, v] of Object.entries(messageFields(g, ctx))) {
    // Lone surrogates would make encodeURIComponent throw.
    if (v !== null) pairs.push([k, encodeURIComponent(v.toWellFormed())]);
  }
  const bytes = g.chance(0.9) ? g.pick(BAD_UTF8) : [0xef, 0xbf, 0xbd];
  const encoded = bytes.map((b) => `%${b.toString(16).padStart(2, "0")}`).join(
    "",
  );
  const pair = g.int(0, pairs.length);
  if (pair === pairs.length) pairs.push([`x${encoded}`, "1"]);
  else {
    const [k, v] = pairs[pair];
    const at = g.int(0, v.length);
    // Not inside another %XX escape.
    const escape = v.lastIndexOf("%", at - 1);
    const cut = escape !== -1 && escape > at - 3 ? escape : at;
    pairs[pair] = [k, v.slice(0, cut) + encoded + v.slice(cut)];
  }
  return postCase(
    g,
    ctx,
    "form-bad-bytes",
    g.chance(0.85) ? "/messages" : "/typing",
    g.pick(FORM_TYPES),
    encoder.encode(pairs.map(([k, v]) => `${k}=${v}`).join("&")),
    { raw: g.chance(0.15) },
  );
}
