/**
 * Reads a page's preview from the start of its HTML: <title> and the Open
 * Graph tags (og:title, og:description, og:image, og:site_name), with
 * <meta name="description"> as a fallback. Regular expressions, not a DOM:
 * only the head matters, and a page that hides its tags from them simply
 * gets no preview.
 */

/** Most characters (code points) of a title; a longer one is cut and ends with "…". */
export const MAX_TITLE_LENGTH = 200;
/** Most characters of a description. */
export const MAX_DESCRIPTION_LENGTH = 300;
/** Most characters of a site name. */
export const MAX_SITE_LENGTH = 80;
/** Longest image URL kept (longer ones are dropped, not cut). */
export const MAX_IMAGE_URL_LENGTH = 2048;

/** What a page says about itself; null fields it did not say (or said unusably). */
export interface PagePreview {
  title: string | null;
  description: string | null;
  image: string | null;
  site: string | null;
}

const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  copy: "©",
  reg: "®",
  trade: "™",
  middot: "·",
  bull: "•",
};

/** Decodes numeric entities and the common named ones; others stay as written. */
export function decodeEntities(text: string): string {
  return text.replace(
    /&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[a-zA-Z]{2,8});/g,
    (whole, ref: string) => {
      if (ref[0] !== "#") return NAMED[ref.toLowerCase()] ?? whole;
      const code = ref[1] === "x" || ref[1] === "X"
        ? parseInt(ref.slice(2), 16)
        : parseInt(ref.slice(1), 10);
      // No NUL, surrogates or beyond Unicode: the replacement character.
      const bad = code === 0 || code > 0x10ffff ||
        (code >= 0xd800 && code <= 0xdfff);
      return String.fromCodePoint(bad ? 0xfffd : code);
    },
  );
}

/** Entities decoded, controls and runs of white space made one space, trimmed and cut to `max` code points; null if empty. */
export function cleanText(raw: string | undefined, max: number): string | null {
  if (raw === undefined) return null;
  const text = decodeEntities(raw)
    .replace(/[\p{Cc}\s]+/gu, " ")
    .normalize("NFC")
    .trim();
  if (text === "") return null;
  const chars = [...text];
  return chars.length > max
    ? chars.slice(0, max - 1).join("").trimEnd() + "…"
    : text;
}

const META = /<meta\b[^>]*>/gi;
const ATTRIBUTE =
  /([^\s"'<>\/=]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/g;

/** The attributes of one tag, names in lower case (the first of each wins). */
function attributes(tag: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of tag.slice(5).matchAll(ATTRIBUTE)) {
    const name = m[1].toLowerCase();
    if (!found.has(name)) found.set(name, m[2] ?? m[3] ?? m[4] ?? "");
  }
  return found;
}

/** An absolute http(s) URL, or null. */
function imageUrl(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const text = decodeEntities(raw).trim();
  if (!/^https?:\/\//i.test(text) || text.length > MAX_IMAGE_URL_LENGTH) {
    return null;
  }
  try {
    const url = new URL(text);
    return url.href.length <= MAX_IMAGE_URL_LENGTH ? url.href : null;
  } catch {
    return null;
  }
}

/** The preview of `html`, the start of a page. */
export function parseMeta(html: string): PagePreview {
  // Tags after </head> belong to the body (and may be anyone's comments).
  const headEnd = html.search(/<\/head\s*>/i);
  const head = (headEnd >= 0 ? html.slice(0, headEnd) : html)
    .replace(/<!--[\s\S]*?(?:-->|$)/g, "");
  const meta = new Map<string, string>();
  for (const [tag] of head.matchAll(META)) {
    const attrs = attributes(tag);
    const key = (attrs.get("property") ?? attrs.get("name"))?.toLowerCase();
    const content = attrs.get("content");
    if (key !== undefined && content !== undefined && !meta.has(key)) {
      meta.set(key, content);
    }
  }
  const title = head.match(/<title\b[^>]*>([\s\S]*?)<\/title\s*>/i)?.[1];
  return {
    title: cleanText(meta.get("og:title"), MAX_TITLE_LENGTH) ??
      cleanText(title, MAX_TITLE_LENGTH),
    description:
      cleanText(meta.get("og:description"), MAX_DESCRIPTION_LENGTH) ??
        cleanText(meta.get("description"), MAX_DESCRIPTION_LENGTH),
    image: imageUrl(meta.get("og:image")),
    site: cleanText(meta.get("og:site_name"), MAX_SITE_LENGTH),
  };
}
