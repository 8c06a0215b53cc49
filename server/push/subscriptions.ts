/**
 * Browsers' push subscriptions: checking what a browser sends to
 * POST /push/subscriptions, and keeping it in Postgres, one row per endpoint.
 */
import { createECDH, type ECDH } from "node:crypto";
import {
  type Database,
  DatabaseUnavailableError,
  isUnavailableError,
} from "../../db/database.ts";
import { validateAuthor } from "../../protocol/message.ts";
import { nameKey } from "../../protocol/names.ts";
import type { Validated } from "../../protocol/validated.ts";
import { type EndpointPolicy, endpointRefusal } from "./endpoint.ts";

/** Longest endpoint URL accepted (real ones are about 200–500 characters). */
export const MAX_ENDPOINT_LENGTH = 2048;

const ENDPOINT_CHARACTERS = /^[\x21-\x7e]+$/;

/** A subscription as stored: where to send, the browser's keys, who it is. */
export interface PushSubscriptionInput {
  endpoint: string;
  /** The browser's P-256 public key, base64url of 65 bytes. */
  p256dh: string;
  /** The browser's auth secret, base64url of 16 bytes. */
  auth: string;
  /** The chat name the subscriber posts under (same rules as an author). */
  name: string;
}

function asObject(input: unknown): Record<string, unknown> | null {
  return typeof input === "object" && input !== null && !Array.isArray(input)
    ? input as Record<string, unknown>
    : null;
}

/** Checks an endpoint's type and length only: enough to look one up (DELETE, visibility). */
export function validateEndpointField(value: unknown): Validated<string> {
  if (typeof value !== "string" || value === "") {
    return { ok: false, error: 'Field "endpoint" must be a non-empty string.' };
  }
  if (value.length > MAX_ENDPOINT_LENGTH) {
    return {
      ok: false,
      error:
        `Field "endpoint" must be at most ${MAX_ENDPOINT_LENGTH} characters.`,
    };
  }
  // A serialised URL, as PushSubscription.endpoint is, is printable ASCII.
  // Anything else would reach the database as is: a NUL fails there (a 500),
  // a lone surrogate is silently stored as U+FFFD.
  if (!ENDPOINT_CHARACTERS.test(value)) {
    return {
      ok: false,
      error:
        'Field "endpoint" must be printable ASCII without spaces, as PushSubscription.endpoint is.',
    };
  }
  return { ok: true, value };
}

/**
 * Checks an endpoint for storing: an https URL on a known push service host
 * (see push_endpoint.ts). Plain http is allowed only to this machine and only
 * with `policy.allowInsecure` (the test push service has no certificate).
 */
export function validateEndpoint(
  value: unknown,
  policy: EndpointPolicy,
): Validated<string> {
  const field = validateEndpointField(value);
  if (!field.ok) return field;
  const refusal = endpointRefusal(field.value, policy);
  return refusal === null ? field : { ok: false, error: refusal };
}

/** The canonical (unpadded base64url) form of a key of exactly `size` bytes, or null. */
function keyOfSize(value: unknown, size: number): string | null {
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]+=*$/.test(value)) {
    return null;
  }
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(value, { alphabet: "base64url" });
  } catch {
    return null;
  }
  if (bytes.length !== size) return null;
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

// One throwaway key pair, to try an ECDH with each key a browser sends.
let probe: ECDH | null = null;

/**
 * Whether `key` (base64url of 65 bytes) is an uncompressed point on P-256:
 * the ECDH that web-push does for every send, done once here, so that a key
 * it could never encrypt for is a 400 instead of a notification failing at
 * every send for as long as the subscription lives.
 */
function isP256Point(key: string): boolean {
  const bytes = Uint8Array.fromBase64(key, { alphabet: "base64url" });
  if (bytes[0] !== 4) return false;
  if (probe === null) {
    probe = createECDH("prime256v1");
    probe.generateKeys();
  }
  try {
    probe.computeSecret(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks the body of POST /push/subscriptions:
 * `{"subscription": PushSubscription.toJSON(), "name": "<chat name>"}`.
 */
export function validateSubscriptionInput(
  input: unknown,
  policy: EndpointPolicy,
): Validated<PushSubscriptionInput> {
  const body = asObject(input);
  if (body === null) {
    return {
      ok: false,
      error: 'Body must be an object with "subscription" and "name".',
    };
  }
  const subscription = asObject(body.subscription);
  if (subscription === null) {
    return {
      ok: false,
      error:
        'Field "subscription" must be an object, as PushSubscription.toJSON() returns.',
    };
  }
  const endpoint = validateEndpoint(subscription.endpoint, policy);
  if (!endpoint.ok) return endpoint;
  const keys = asObject(subscription.keys);
  const p256dh = keyOfSize(keys?.p256dh, 65);
  if (p256dh === null || !isP256Point(p256dh)) {
    return {
      ok: false,
      error:
        'Field "keys.p256dh" must be an uncompressed P-256 public key in base64url (65 bytes).',
    };
  }
  const auth = keyOfSize(keys?.auth, 16);
  if (auth === null) {
    return {
      ok: false,
      error: 'Field "keys.auth" must be 16 bytes in base64url.',
    };
  }
  const name = validateAuthor(body.name);
  if (!name.ok) {
    // The author rules, said about the field this body calls "name".
    return { ok: false, error: name.error.replace('"author"', '"name"') };
  }
  return {
    ok: true,
    value: { endpoint: endpoint.value, p256dh, auth, name: name.value },
  };
}

/** Body of DELETE /push/subscriptions: `{"endpoint": "…"}`. */
export function validateEndpointBody(input: unknown): Validated<string> {
  const body = asObject(input);
  if (body === null) {
    return { ok: false, error: 'Body must be an object with "endpoint".' };
  }
  return validateEndpointField(body.endpoint);
}

/** What a subscription is notified of: every message, mentions and replies only, or nothing. */
export type NotifyMode = "all" | "mentions" | "none";

/** The modes, as PATCH /push/subscriptions accepts them. */
export const NOTIFY_MODES: readonly NotifyMode[] = ["all", "mentions", "none"];

/** Longest mute accepted: a week (the client offers an hour). */
export const MAX_MUTE_MS = 7 * 24 * 60 * 60 * 1000;

/** A subscription's settings, as stored and answered. */
export interface PushSettings {
  mode: NotifyMode;
  /** ISO 8601; null: not muted. */
  mutedUntil: string | null;
}

/** The body of PATCH /push/subscriptions: the endpoint and the settings it changes. */
export interface PushSettingsInput {
  endpoint: string;
  mode?: NotifyMode;
  /** Epoch ms; null unmutes. */
  mutedUntil?: number | null;
}

/**
 * Checks the body of PATCH /push/subscriptions:
 * `{"endpoint": "…", "mode"?: "all" | "mentions" | "none",
 * "mutedUntil"?: ISO 8601 time | null}`, at least one setting. A mute in
 * the past unmutes; one more than MAX_MUTE_MS ahead is refused.
 */
export function validateSettingsInput(
  input: unknown,
  now = Date.now(),
): Validated<PushSettingsInput> {
  const body = asObject(input);
  if (body === null) {
    return {
      ok: false,
      error:
        'Body must be an object with "endpoint" and "mode" or "mutedUntil".',
    };
  }
  const endpoint = validateEndpointField(body.endpoint);
  if (!endpoint.ok) return endpoint;
  const value: PushSettingsInput = { endpoint: endpoint.value };
  if (body.mode !== undefined) {
    if (!NOTIFY_MODES.includes(body.mode as NotifyMode)) {
      return {
        ok: false,
        error: 'Field "mode" must be "all", "mentions" or "none".',
      };
    }
    value.mode = body.mode as NotifyMode;
  }
  if (body.mutedUntil !== undefined) {
    const at = typeof body.mutedUntil === "string"
      ? Date.parse(body.mutedUntil)
      : NaN;
    if (body.mutedUntil !== null && !(at <= now + MAX_MUTE_MS)) {
      return {
        ok: false,
        error:
          'Field "mutedUntil" must be null or a time (ISO 8601) at most a week ahead.',
      };
    }
    value.mutedUntil = body.mutedUntil === null || at <= now ? null : at;
  }
  if (value.mode === undefined && value.mutedUntil === undefined) {
    return { ok: false, error: 'Give "mode", "mutedUntil" or both.' };
  }
  return { ok: true, value };
}

/** Stored subscriptions; every method may throw DatabaseUnavailableError. */
export interface PushSubscriptionStore {
  /** Stores a subscription, or updates the keys and name of its endpoint; `created` says which. */
  save(input: PushSubscriptionInput): Promise<{ created: boolean }>;
  /** Deletes the subscription of `endpoint` (its queued notifications go with it); false if none. */
  remove(endpoint: string): Promise<boolean>;
  /** Changes the settings given, keeps the others; the settings now, or null when there is no such subscription. */
  configure(input: PushSettingsInput): Promise<PushSettings | null>;
}

/** Turns connection failures into DatabaseUnavailableError (the app answers 503). */
export async function guardDatabase<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUnavailableError(error)) throw new DatabaseUnavailableError(error);
    throw error;
  }
}

/** A PushSubscriptionStore over `db`. */
export function createPushSubscriptionStore(
  db: Database,
): PushSubscriptionStore {
  return {
    save: (input) =>
      guardDatabase(async () => {
        // xmax is 0 on a row this statement inserted, set on one it updated.
        const [row] = await db.query<{ created: boolean }>(
          `insert into push_subscriptions
             (endpoint, p256dh, auth, name, name_key)
           values ($1, $2, $3, $4, $5)
           on conflict (endpoint) do update
             set p256dh = excluded.p256dh, auth = excluded.auth,
                 name = excluded.name, name_key = excluded.name_key,
                 updated_at = now()
           returning (xmax = 0) as created`,
          [
            input.endpoint,
            input.p256dh,
            input.auth,
            input.name,
            nameKey(input.name),
          ],
        );
        return { created: row.created };
      }),
    remove: (endpoint) =>
      guardDatabase(async () => {
        const rows = await db.query(
          "delete from push_subscriptions where endpoint = $1 returning id",
          [endpoint],
        );
        return rows.length > 0;
      }),
    configure: (input) =>
      guardDatabase(async () => {
        // $3: whether mutedUntil was given (null in it unmutes).
        const [row] = await db.query<
          { mode: NotifyMode; muted_until: string | Date | null }
        >(
          `update push_subscriptions set
             mode = coalesce($2, mode),
             muted_until = case when $3::boolean
               then to_timestamp($4::double precision / 1000)
               else muted_until end
           where endpoint = $1
           returning mode, muted_until`,
          [
            input.endpoint,
            input.mode ?? null,
            input.mutedUntil !== undefined,
            input.mutedUntil ?? null,
          ],
        );
        if (row === undefined) return null;
        // An elapsed mute is no mute.
        const until = row.muted_until === null
          ? null
          : new Date(row.muted_until);
        return {
          mode: row.mode,
          mutedUntil: until && until.getTime() > Date.now()
            ? until.toISOString()
            : null,
        };
      }),
  };
}
