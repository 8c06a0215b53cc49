/**
 * One push request: encrypt and sign with web-push's generateRequestDetails
 * (no crypto of our own), send it with fetch, and sort the answer into what
 * the dispatcher should do next. web-push's own sendNotification is not used:
 * it goes through node:https, which also cannot reach the plain-http test
 * push service.
 */
// @deno-types="@types/web-push"
import webpush from "web-push";
import { type EndpointPolicy, endpointRefusal } from "./endpoint.ts";
import type { VapidKeys } from "./keys.ts";

/** Where a notification goes: a subscription's endpoint and the browser's keys. */
export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** What to send: the payload (JSON text) and the Web Push headers. */
export interface PushMessage {
  payload: string;
  /** Push services replace an undelivered message with the same topic. */
  topic: string;
  urgency: "normal" | "high";
  /** How long the push service keeps it for an offline device. */
  ttlSeconds: number;
}

/** How one send went, as the dispatcher acts on it. */
export type SendOutcome =
  | { kind: "sent"; status: number }
  /** 404/410: the browser unsubscribed or the subscription expired. */
  | { kind: "gone"; status: number }
  /** 429, 5xx, no answer, or this instance stopping: try again later. */
  | {
    kind: "retry";
    status: number | null;
    /** What the push service asked for (Retry-After), if anything. */
    retryAfterMs: number | null;
    reason: string;
  }
  /** Any other refusal (400, 401, 403, 413…): sending again would not help. */
  | { kind: "failed"; status: number; reason: string };

/** Sends notifications with one VAPID identity. */
export interface PushSender {
  /** Never throws: every failure is an outcome. `signal` aborts (shutdown). */
  send(
    target: PushTarget,
    message: PushMessage,
    signal?: AbortSignal,
  ): Promise<SendOutcome>;
}

/** Options of createPushSender. */
export interface PushSenderOptions {
  keys: VapidKeys;
  /** VAPID `sub`: a mailto: or https: contact. */
  subject: string;
  /** A request taking longer is abandoned and retried. */
  timeoutMs: number;
  /** Where sending is allowed: checked before every send, whatever was stored. */
  endpoints: EndpointPolicy;
  /** Injectable for tests. */
  fetch?: typeof fetch;
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), or null. */
export function parseRetryAfter(
  value: string | null,
  now: number = Date.now(),
): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Creates a sender; it holds no connection or timer between sends. */
export function createPushSender(options: PushSenderOptions): PushSender {
  const doFetch = options.fetch ?? fetch;
  const vapidDetails = {
    subject: options.subject,
    publicKey: options.keys.publicKey,
    privateKey: options.keys.privateKey,
  };
  return {
    async send(target, message, signal) {
      // Checked here as well as when subscribing: a row stored before
      // PUSH_SERVICE_HOSTS changed, or written around the API, must not make
      // this server send anywhere else.
      const refusal = endpointRefusal(target.endpoint, options.endpoints);
      if (refusal !== null) {
        return { kind: "failed", status: 0, reason: `not sent: ${refusal}` };
      }
      // An "abort" listener added to a signal already aborted never runs:
      // without this, a send claimed just as the instance began stopping
      // would still go out and hold the shutdown up for a whole timeout.
      if (signal?.aborted) {
        return {
          kind: "retry",
          status: null,
          retryAfterMs: null,
          reason: "stopped",
        };
      }
      let details: webpush.RequestDetails;
      try {
        details = webpush.generateRequestDetails(
          {
            endpoint: target.endpoint,
            keys: { p256dh: target.p256dh, auth: target.auth },
          },
          message.payload,
          {
            vapidDetails,
            TTL: message.ttlSeconds,
            topic: message.topic,
            urgency: message.urgency,
            contentEncoding: "aes128gcm",
          },
        );
      } catch (error) {
        // Keys the browser gave that web-push cannot use: no send will work.
        return {
          kind: "failed",
          status: 0,
          reason: `could not encrypt: ${
            error instanceof Error ? error.message : String(error)
          }`,
        };
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(details.headers)) {
        // fetch sets the length itself from the body.
        if (name.toLowerCase() !== "content-length") {
          headers.set(name, String(value));
        }
      }
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), options.timeoutMs);
      const onAbort = () => controller.abort();
      signal?.addEventListener("abort", onAbort);
      try {
        const res = await doFetch(details.endpoint, {
          method: "POST",
          headers,
          body: details.body === null ? null : new Uint8Array(details.body),
          signal: controller.signal,
          redirect: "manual",
        });
        // Push services answer with a line or two; keep a little for the log.
        const reason = (await res.text()).slice(0, 200);
        const status = res.status;
        if (status >= 200 && status < 300) return { kind: "sent", status };
        if (status === 404 || status === 410) return { kind: "gone", status };
        if (status === 429 || status >= 500) {
          return {
            kind: "retry",
            status,
            retryAfterMs: parseRetryAfter(res.headers.get("retry-after")),
            reason: reason || `HTTP ${status}`,
          };
        }
        return { kind: "failed", status, reason: reason || `HTTP ${status}` };
      } catch (error) {
        return {
          kind: "retry",
          status: null,
          retryAfterMs: null,
          reason: signal?.aborted
            ? "stopped"
            : controller.signal.aborted
            ? `no answer within ${options.timeoutMs} ms`
            : error instanceof Error
            ? error.message
            : String(error),
        };
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      }
    },
  };
}
