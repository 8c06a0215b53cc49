/**
 * Fetches the start of a linked page for its preview, through the SSRF guard
 * (ssrf_guard.ts). HTTP/1.1 is spoken over a socket opened to the address
 * the guard checked, not to the host name, so DNS cannot answer differently
 * between the check and the connection (rebinding). For https the TLS
 * session is started on that socket with the URL's host name, which gives
 * the right SNI and certificate check. Redirects are followed by hand, each
 * hop checked again; everything together has one deadline and one size cap.
 */
import {
  destinationOf,
  type PreviewGuard,
  RefusedUrlError,
} from "./ssrf_guard.ts";
import { type PagePreview, parseMeta } from "./parse_meta.ts";

/** Time for the whole fetch: DNS, every hop, reading. */
export const FETCH_TIMEOUT_MS = 5_000;
/** Most bytes of a response read (head and body); reading stops at </head> before that. */
export const MAX_READ_BYTES = 512 * 1024;
/** Redirects followed before giving up. */
export const MAX_REDIRECTS = 3;
/** Most bytes of a response's status line and headers. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Bytes asked of the socket per read. */
export const READ_CHUNK_BYTES = 64 * 1024;
/** What Plaza says it is to the sites it previews. */
export const USER_AGENT = "PlazaLinkPreview/1";

/** The fetcher's dependencies and limits (tests shorten them). */
export interface FetchOptions {
  guard: PreviewGuard;
  /** Stops the fetch early (a shutdown). */
  signal?: AbortSignal;
  timeoutMs?: number;
  maxBytes?: number;
}

/** Why a fetch gave no preview, for logs. */
export class PreviewFetchError extends Error {
  override name = "PreviewFetchError";
}

const encoder = new TextEncoder();
const HEAD_END = encoder.encode("\r\n\r\n");
const HEAD_CLOSE = encoder.encode("</head");

// ASCII letters in lower case, other bytes as they are.
const lower = (b: number) => b >= 0x41 && b <= 0x5a ? b | 0x20 : b;

/** Where `needle` (lower case) first occurs in `haystack` from `from`, ASCII letters case-insensitively (</HEAD>); -1 if nowhere. */
function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (lower(haystack[i + j]) !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** Connects, or rejects once `signal` aborts (a connection made later is closed at once). */
function connect(
  hostname: string,
  port: number,
  signal: AbortSignal,
): Promise<Deno.TcpConn> {
  signal.throwIfAborted();
  const pending = Deno.connect({ hostname, port });
  return new Promise((resolve, reject) => {
    const abort = () => {
      reject(new PreviewFetchError("timed out"));
      pending.then((conn) => conn.close(), () => {});
    };
    signal.addEventListener("abort", abort, { once: true });
    pending.then((conn) => {
      signal.removeEventListener("abort", abort);
      resolve(conn);
    }, (error) => {
      signal.removeEventListener("abort", abort);
      reject(error);
    });
  });
}

/** A response as far as it was read. */
interface RawResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** One request on a socket to the checked address; reads at most maxBytes and stops at </head>. */
async function request(
  url: URL,
  address: string,
  port: number,
  maxBytes: number,
  signal: AbortSignal,
): Promise<RawResponse> {
  const tcp = await connect(address, port, signal);
  let conn: Deno.Conn = tcp;
  const stop = () => conn.close();
  signal.addEventListener("abort", stop, { once: true });
  try {
    if (url.protocol === "https:") {
      conn = await Deno.startTls(tcp, {
        hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      });
    }
    const target = (url.pathname || "/") + url.search;
    await conn.write(encoder.encode(
      `GET ${target} HTTP/1.1\r\nHost: ${url.host}\r\n` +
        `User-Agent: ${USER_AGENT}\r\nAccept: text/html\r\n` +
        `Accept-Encoding: identity\r\nConnection: close\r\n\r\n`,
    ));
    const buffer = new Uint8Array(maxBytes);
    // Reads go through a small buffer: a read into the large one costs
    // time in proportion to its free space.
    const chunk = new Uint8Array(Math.min(READ_CHUNK_BYTES, maxBytes));
    let length = 0;
    let headEnd = -1;
    while (length < maxBytes) {
      const n = await conn.read(chunk.subarray(0, maxBytes - length));
      if (n === null) break;
      buffer.set(chunk.subarray(0, n), length);
      const scanFrom = Math.max(0, length - 8);
      length += n;
      if (headEnd < 0) {
        headEnd = indexOf(buffer.subarray(0, length), HEAD_END, scanFrom);
        if (headEnd < 0 && length > MAX_HEADER_BYTES) {
          throw new PreviewFetchError("response headers too large");
        }
      }
      if (
        headEnd >= 0 &&
        indexOf(
            buffer.subarray(0, length),
            HEAD_CLOSE,
            Math.max(headEnd, scanFrom - 8),
          ) >= 0
      ) {
        break;
      }
    }
    if (headEnd < 0) throw new PreviewFetchError("no complete response head");
    return parseHead(buffer.subarray(0, length), headEnd);
  } catch (error) {
    if (signal.aborted) throw new PreviewFetchError("timed out");
    throw error;
  } finally {
    signal.removeEventListener("abort", stop);
    try {
      conn.close();
    } catch {
      // Closed already (by the deadline).
    }
  }
}

function parseHead(bytes: Uint8Array, headEnd: number): RawResponse {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, headEnd));
  const [statusLine, ...lines] = head.split("\r\n");
  const status = statusLine.match(/^HTTP\/1\.[01] (\d{3})/);
  if (!status) throw new PreviewFetchError("not an HTTP/1.x response");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      // A header Headers refuses tells the preview nothing.
    }
  }
  let body = bytes.subarray(headEnd + HEAD_END.length);
  if (/\bchunked\b/i.test(headers.get("transfer-encoding") ?? "")) {
    body = unchunk(body);
  }
  return { status: Number(status[1]), headers, body };
}

/** Decodes as much of a chunked body as was read (the last chunk may be cut). */
export function unchunk(raw: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  while (at < raw.length) {
    const lineEnd = indexOf(raw, encoder.encode("\r\n"), at);
    if (lineEnd < 0) break;
    const size = parseInt(
      new TextDecoder().decode(raw.subarray(at, lineEnd)).split(";")[0],
      16,
    );
    if (!Number.isFinite(size) || size <= 0) break;
    const start = lineEnd + 2;
    parts.push(raw.subarray(start, Math.min(start + size, raw.length)));
    at = start + size + 2;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function charsetOf(contentType: string): string {
  const label = contentType.match(/charset\s*=\s*"?([\w.:-]+)/i)?.[1];
  try {
    return new TextDecoder(label ?? "utf-8").encoding;
  } catch {
    return "utf-8";
  }
}

/**
 * The preview of `link`, or throws (RefusedUrlError when the guard refused
 * a hop, PreviewFetchError for anything else the page did wrong). Only a 200
 * text/html answer counts.
 */
export async function fetchPreview(
  link: string,
  options: FetchOptions,
): Promise<PagePreview> {
  const deadline = AbortSignal.timeout(options.timeoutMs ?? FETCH_TIMEOUT_MS);
  const signal = options.signal
    ? AbortSignal.any([options.signal, deadline])
    : deadline;
  const maxBytes = options.maxBytes ?? MAX_READ_BYTES;
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new RefusedUrlError("not a URL");
  }
  for (let hop = 0;; hop++) {
    const { address, port } = await destinationOf(url, options.guard, signal);
    const response = await request(url, address, port, maxBytes, signal);
    const location = response.headers.get("location");
    if ([301, 302, 303, 307, 308].includes(response.status) && location) {
      if (hop >= MAX_REDIRECTS) {
        throw new PreviewFetchError("too many redirects");
      }
      try {
        url = new URL(location, url);
      } catch {
        throw new PreviewFetchError("a redirect to no URL");
      }
      continue;
    }
    if (response.status !== 200) {
      throw new PreviewFetchError(`status ${response.status}`);
    }
    const type = response.headers.get("content-type") ?? "";
    if (!/^\s*text\/html\b/i.test(type)) {
      throw new PreviewFetchError(`content type ${type || "(none)"}`);
    }
    const html = new TextDecoder(charsetOf(type)).decode(response.body);
    return parseMeta(html);
  }
}
