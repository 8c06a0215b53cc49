/**
 * The oracle for POST bodies: the answer the app must give to a body, and
 * what it must store, mirroring request_fields.ts and message.ts.
 */
import {
  validateMessageInput,
  validateTypingInput,
} from "../../protocol/message.ts";
import { MAX_BODY_BYTES } from "../../server/http/request_fields.ts";
import { type Bytes, encoder, latin1 } from "./bytes.ts";
import type { CaseBase } from "./cases.ts";

const ACCEPTED_TYPES = [
  "application/json",
  "application/x-www-form-urlencoded",
];

/** What the server should answer to a POST body, mirroring request_fields.ts and message.ts. */
export function predictPost(
  path: "/messages" | "/typing",
  contentType: string | null,
  body: Bytes,
  pool: readonly string[],
  origin: { header: string | undefined; host: string } = {
    header: undefined,
    host: "",
  },
): Pick<CaseBase, "expect" | "post"> {
  if (origin.header !== undefined) {
    let host: string | null = null;
    try {
      host = new URL(origin.header).host;
    } catch {
      // Not a URL: never the app's own origin.
    }
    if (host !== origin.host) return { expect: [403] };
  }
  // POST /typing has a rate limit of its own; raised for this test, but
  // docs/api.md allows a 429 there at any time.
  const limited = path === "/typing" ? [429] : [];
  const media = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (!ACCEPTED_TYPES.includes(media)) return { expect: [415, ...limited] };
  if (body.byteLength > MAX_BODY_BYTES) return { expect: [413, ...limited] };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return { expect: [400, ...limited] };
  }
  let value: unknown;
  if (media === "application/json") {
    try {
      value = JSON.parse(text);
    } catch {
      return { expect: [400, ...limited] };
    }
  } else {
    const form = strictForm(text);
    if (form === null) return { expect: [400, ...limited] };
    const names = path === "/typing" ? ["author"] : [
      "author",
      "text",
      "clientId",
    ];
    value = Object.fromEntries(
      names.map((n) => [n, form.get(n) ?? undefined]),
    );
  }
  if (path === "/typing") {
    return { expect: validateTypingInput(value).ok ? [202, 429] : [400, 429] };
  }
  const input = validateMessageInput(value);
  if (!input.ok) return { expect: [400] };
  const clientId = input.value.clientId ?? null;
  return {
    // A pooled clientId may already be stored: then 200 with the original.
    expect: clientId !== null && pool.includes(clientId) ? [200, 201] : [201],
    post: { author: input.value.author, text: input.value.text, clientId },
  };
}

/**
 * A form as URLSearchParams parses it, or null when a percent-decoded name
 * or value is not UTF-8: the app refuses those (400) where URLSearchParams
 * would quietly put U+FFFD.
 */
function strictForm(text: string): URLSearchParams | null {
  // Bytes cannot form one UTF-8 sequence across "&" or "=", so each piece
  // can be checked alone.
  for (const piece of text.split(/[&=]/)) {
    const raw = encoder.encode(piece.replaceAll("+", " "));
    const bytes: number[] = [];
    for (let i = 0; i < raw.length; i++) {
      const hex = raw[i] === 0x25 ? latin1(raw.subarray(i + 1, i + 3)) : "";
      if (/^[0-9a-f]{2}$/i.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(raw[i]);
    }
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
    } catch {
      return null;
    }
  }
  return new URLSearchParams(text);
}
