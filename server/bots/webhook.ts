/**
 * One signed POST to a bot's webhook. The body is signed with the bot's
 * secret: HMAC-SHA256 over `<timestamp>.<body>`, hex, in SIGNATURE_HEADER,
 * the Unix time in seconds in TIMESTAMP_HEADER (docs/api.md, "Bots").
 *
 * Unless the bot may be local, the URL goes through the link previews' SSRF
 * guard (server/previews/ssrf_guard.ts): Plaza resolves the host itself,
 * refuses any non-public answer, and speaks HTTP/1.1 over a socket to the
 * very address it checked, so DNS cannot answer differently in between.
 * Redirects are never followed (a 3xx is a failed delivery), so none can
 * lead to a private address.
 */
import { createHmac } from "node:crypto";
import {
  destinationOf,
  type PreviewGuard,
  RefusedUrlError,
} from "../previews/ssrf_guard.ts";
import { unchunk } from "../previews/fetch_preview.ts";

export { RefusedUrlError };

/** Header with the HMAC-SHA256 of `<timestamp>.<body>`, as `sha256=<hex>`. */
export const SIGNATURE_HEADER = "Plaza-Signature";
/** Header with the Unix time (seconds) the request was signed at. */
export const TIMESTAMP_HEADER = "Plaza-Timestamp";
/** Header with the delivery's id: the same on each retry, so a bot can drop a repeat. */
export const DELIVERY_HEADER = "Plaza-Delivery";
/** What Plaza says it is to webhooks. */
export const WEBHOOK_USER_AGENT = "PlazaBot/1";
/** Time for one whole delivery: DNS, connecting, sending, the answer. */
export const WEBHOOK_TIMEOUT_MS = 5_000;
/** Most bytes of an answer read (head and body); a longer one is cut and fails to parse. */
export const MAX_ANSWER_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/** The signature of `body` sent at `timestamp` (Unix seconds): `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>`. */
export function signWebhook(
  secret: string,
  timestamp: number,
  body: string,
): string {
  return "sha256=" +
    createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/** Why a delivery failed in a way worth another try (no answer, a timeout, a broken answer). */
export class WebhookError extends Error {
  override name = "WebhookError";
}

/** A webhook's answer, read up to MAX_ANSWER_BYTES. */
export interface WebhookAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** What one POST needs. */
export interface WebhookRequest {
  url: string;
  secret: string;
  deliveryId: number;
  body: string;
  /** May the webhook be on a private or loopback address (a bot on the same host)? */
  allowLocal: boolean;
  /** Where a non-local webhook may be connected to (publicOnly in production). */
  guard: PreviewGuard;
  timeoutMs?: number;
  /** Unix seconds to sign with; now when absent. */
  timestamp?: number;
}

/**
 * POSTs the signed body and reads the answer. Throws RefusedUrlError when
 * the guard refuses the URL (never worth a retry) and WebhookError for a
 * network failure or timeout.
 */
export async function postWebhook(
  request: WebhookRequest,
): Promise<WebhookAnswer> {
  const signal = AbortSignal.timeout(request.timeoutMs ?? WEBHOOK_TIMEOUT_MS);
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new RefusedUrlError("not a URL");
  }
  let address: string;
  let port: number;
  if (request.allowLocal) {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new RefusedUrlError(`scheme ${url.protocol} is not http(s)`);
    }
    address = url.hostname.replace(/^\[(.*)\]$/, "$1");
    port = url.port !== "" ? Number(url.port) : defaultPort(url);
  } else {
    ({ address, port } = await destinationOf(url, request.guard, signal));
  }
  const timestamp = request.timestamp ?? Math.floor(Date.now() / 1000);
  const body = encoder.encode(request.body);
  const head = `POST ${(url.pathname || "/") + url.search} HTTP/1.1\r\n` +
    `Host: ${url.host}\r\n` +
    `User-Agent: ${WEBHOOK_USER_AGENT}\r\n` +
    `Content-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\n` +
    `Accept: application/json\r\n` +
    `Accept-Encoding: identity\r\n` +
    `${DELIVERY_HEADER}: ${request.deliveryId}\r\n` +
    `${TIMESTAMP_HEADER}: ${timestamp}\r\n` +
    `${SIGNATURE_HEADER}: ${
      signWebhook(request.secret, timestamp, request.body)
    }\r\n` +
    `Connection: close\r\n\r\n`;
  return await exchange(
    url,
    address,
    port,
    [encoder.encode(head), body],
    signal,
  );
}

function defaultPort(url: URL): number {
  return url.protocol === "https:" ? 443 : 80;
}

/** Writes `parts` on a connection to `address` and reads the answer, all before `signal` aborts. */
async function exchange(
  url: URL,
  address: string,
  port: number,
  parts: Uint8Array[],
  signal: AbortSignal,
): Promise<WebhookAnswer> {
  let conn: Deno.Conn | null = null;
  const stop = () => {
    try {
      conn?.close();
    } catch {
      // Closed already.
    }
  };
  signal.addEventListener("abort", stop, { once: true });
  try {
    const tcp = await abortable(
      Deno.connect({ hostname: address, port }),
      signal,
    );
    conn = tcp;
    if (url.protocol === "https:") {
      conn = await Deno.startTls(tcp, {
        hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      });
    }
    for (const part of parts) {
      for (let at = 0; at < part.length;) {
        at += await conn.write(part.subarray(at));
      }
    }
    return parseAnswer(await readAnswer(conn));
  } catch (error) {
    if (error instanceof WebhookError) throw error;
    throw new WebhookError(
      signal.aborted ? "timed out" : `no answer (${describe(error)})`,
      { cause: error },
    );
  } finally {
    signal.removeEventListener("abort", stop);
    stop();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Resolves with `pending`, or rejects once `signal` aborts (a connection made later is closed at once). */
function abortable(
  pending: Promise<Deno.TcpConn>,
  signal: AbortSignal,
): Promise<Deno.TcpConn> {
  if (signal.aborted) {
    pending.then((conn) => conn.close(), () => {});
    return Promise.reject(new WebhookError("timed out"));
  }
  return new Promise((resolve, reject) => {
    const abort = () => {
      reject(new WebhookError("timed out"));
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

/** Reads until the peer closes, the Content-Length is in, or MAX_ANSWER_BYTES. */
async function readAnswer(conn: Deno.Conn): Promise<Uint8Array> {
  const buffer = new Uint8Array(MAX_ANSWER_BYTES);
  let length = 0;
  while (length < buffer.length) {
    const n = await conn.read(buffer.subarray(length));
    if (n === null) break;
    length += n;
    if (complete(buffer.subarray(0, length))) break;
  }
  return buffer.subarray(0, length);
}

const HEAD_END = "\r\n\r\n";

/** Whether a response with a Content-Length has all of its body. */
function complete(bytes: Uint8Array): boolean {
  const text = new TextDecoder("latin1").decode(bytes);
  const end = text.indexOf(HEAD_END);
  if (end < 0) return false;
  const length = text.slice(0, end).match(/\r\ncontent-length:\s*(\d+)/i);
  return length !== null &&
    bytes.length >= end + HEAD_END.length + Number(length[1]);
}

function parseAnswer(bytes: Uint8Array): WebhookAnswer {
  const text = new TextDecoder("latin1").decode(bytes);
  const end = text.indexOf(HEAD_END);
  if (end < 0) throw new WebhookError("no complete answer");
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const status = statusLine.match(/^HTTP\/1\.[01] (\d{3})/);
  if (!status) throw new WebhookError("not an HTTP/1.x answer");
  const header = (name: string) =>
    lines.find((l) => l.toLowerCase().startsWith(`${name}:`))
      ?.slice(name.length + 1).trim() ?? "";
  let body = bytes.subarray(end + HEAD_END.length);
  if (/\bchunked\b/i.test(header("transfer-encoding"))) body = unchunk(body);
  const length = header("content-length");
  if (/^\d+$/.test(length)) body = body.subarray(0, Number(length));
  return {
    status: Number(status[1]),
    contentType: header("content-type"),
    body: new TextDecoder().decode(body),
  };
}
