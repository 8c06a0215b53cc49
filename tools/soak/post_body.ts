import { pick, type Rng, seededUuid } from "./random.ts";

/** Longest allowed text of 4-byte characters: its NOTIFY payload carries the id alone. */
const HUGE_SHARE = 0.01;
const MULTILINE_SHARE = 0.05;
const MAX_WORDS = 25;

const WORDS = [
  "hello",
  "plaza",
  "coffee",
  "anyone",
  "here",
  "the",
  "deploy",
  "went",
  "fine",
  "lunch?",
  "ok",
  "👍",
  "🙂",
  "naïve",
  // NFD on purpose: the server must store it as NFC "café".
  "cafe\u0301",
  "日本語",
  "https://example.com/a?b=c",
  "@ada",
  "<b>not bold</b>",
  "&amp;",
  '"quoted"',
];

/** A POST /messages body. */
export interface PostBody {
  author: string;
  text: string;
  clientId: string;
}

/** A new message by `author` with a fresh clientId: mostly short chatter, now and then multi-line or as long as allowed. */
export function newBody(rng: Rng, author: string): PostBody {
  let text: string;
  if (rng() < HUGE_SHARE) {
    text = "🦕".repeat(2000);
  } else {
    const n = 1 + Math.floor(rng() * MAX_WORDS);
    const words = Array.from({ length: n }, () => pick(rng, WORDS));
    const multiline = rng() < MULTILINE_SHARE;
    text = words.join(multiline ? "\n" : " ");
  }
  return { author, text, clientId: seededUuid(rng) };
}

/** What the server should store for a field of a body (protocol/message.ts cleans input so). */
export function cleaned(s: string): string {
  return s.replace(/\r\n?/g, "\n").normalize("NFC").trim();
}
