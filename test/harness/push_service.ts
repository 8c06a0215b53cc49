/**
 * A Web Push service for tests, on 127.0.0.1 over plain http. It plays both
 * sides a real one spans: it makes subscriptions as a browser would (a P-256
 * key pair and an auth secret per subscription), and it accepts push
 * requests the way a push service must, checking the VAPID header (an ES256
 * JWT for this origin, not expired, signed by the key it names) and then
 * decrypting the aes128gcm body (RFC 8291 on RFC 8188) with the
 * subscription's private key. The crypto here is WebCrypto used by hand, for
 * verification only: what Plaza sends is made by web-push.
 */

/** What a browser gives the server: PushSubscription.toJSON(). */
export interface SubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** A subscription made by the test service. */
export interface TestSubscription extends SubscriptionJson {
  /** The last path segment of the endpoint. */
  id: string;
}

/** A push request that passed every check, decrypted. */
export interface ReceivedNotification {
  subscriptionId: string;
  endpoint: string;
  /** The decrypted body parsed as JSON. */
  payload: unknown;
  /** The decrypted body as text. */
  text: string;
  topic: string | null;
  ttl: string | null;
  urgency: string | null;
  /** The VAPID public key (`k=`) that signed it. */
  vapidKey: string;
  /** The JWT's claims. */
  claims: { aud: string; exp: number; sub: string };
}

/** A push request the service refused, and why. */
export interface RejectedRequest {
  path: string;
  status: number;
  reason: string;
}

/** A scripted answer for one endpoint instead of the normal 201. */
export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  /** How many requests get it; Infinity (the default) = all from now on. */
  times?: number;
}

/** The running service. */
export interface TestPushService {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** Makes a subscription whose endpoint is on this service. */
  subscribe(): Promise<TestSubscription>;
  /** Answers the endpoint's next requests with `answer` (410, 404, 500, 429…) instead of accepting them. */
  answer(endpoint: string, answer: ScriptedAnswer): void;
  /** Notifications accepted so far, in order of arrival. */
  readonly received: readonly ReceivedNotification[];
  /** Requests refused by a check (bad VAPID, undecryptable) or by a scripted answer. */
  readonly rejected: readonly RejectedRequest[];
  /** Notifications accepted for one endpoint. */
  receivedBy(endpoint: string): ReceivedNotification[];
  /** Every request that reached an endpoint, accepted or not, counted per endpoint. */
  attempts(endpoint: string): number;
  /** Resolves once `predicate` holds (checked after every request); rejects after `timeoutMs` saying what was seen. */
  waitFor(
    predicate: () => boolean,
    description: string,
    timeoutMs?: number,
  ): Promise<void>;
  /** Resolves once `n` notifications have been received in all (or for `endpoint`). */
  waitForCount(n: number, endpoint?: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

type Bytes = Uint8Array<ArrayBuffer>;

const encoder = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

function fromB64url(text: string): Bytes {
  return new Uint8Array(Uint8Array.fromBase64(text, { alphabet: "base64url" }));
}

function concat(...parts: Uint8Array[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** HKDF-SHA-256 (extract and expand) of `length` bytes. */
async function hkdf(
  salt: Bytes,
  ikm: Bytes,
  info: Bytes,
  length: number,
): Promise<Bytes> {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, [
    "deriveBits",
  ]);
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt, info },
      key,
      length * 8,
    ),
  );
}

/** Error thrown by a check; `status` is what the service answers. */
class Refusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Checks `Authorization: vapid t=<jwt>, k=<key>` for `origin`; returns the key and claims. */
async function verifyVapid(
  header: string | null,
  origin: string,
): Promise<{ key: string; claims: ReceivedNotification["claims"] }> {
  const m = header?.match(/^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/);
  if (!m) throw new Refusal(401, `no VAPID authorization: ${header}`);
  const [, jwt, key] = m;
  const parts = jwt.split(".");
  if (parts.length !== 3) throw new Refusal(401, "JWT is not three parts");
  const [head, body, signature] = parts;
  const header64 = JSON.parse(new TextDecoder().decode(fromB64url(head)));
  if (header64.alg !== "ES256") {
    throw new Refusal(401, `JWT alg is ${header64.alg}, not ES256`);
  }
  const publicKey = await crypto.subtle.importKey(
    "raw",
    fromB64url(key),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  // JOSE signatures are r || s (64 bytes), the format WebCrypto verifies.
  const valid = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    publicKey,
    fromB64url(signature),
    encoder.encode(`${head}.${body}`),
  );
  if (!valid) throw new Refusal(403, "JWT signature does not verify with k");
  const claims = JSON.parse(new TextDecoder().decode(fromB64url(body)));
  if (claims.aud !== origin) {
    throw new Refusal(403, `JWT aud ${claims.aud} is not ${origin}`);
  }
  const now = Date.now() / 1000;
  // RFC 8292: no more than 24 hours ahead.
  if (
    typeof claims.exp !== "number" || claims.exp <= now ||
    claims.exp > now + 86_400
  ) {
    throw new Refusal(403, `JWT exp ${claims.exp} is not within 24 h ahead`);
  }
  if (
    typeof claims.sub !== "string" || !/^(mailto:|https:)/.test(claims.sub)
  ) {
    throw new Refusal(403, `JWT sub ${claims.sub} is not mailto: or https:`);
  }
  return { key, claims };
}

interface Keys {
  privateKey: CryptoKey;
  publicRaw: Bytes;
  auth: Bytes;
}

/** Decrypts an aes128gcm Web Push body (RFC 8291 §3.4, RFC 8188 §2). */
async function decrypt(body: Bytes, keys: Keys): Promise<Bytes> {
  if (body.length < 21) throw new Refusal(400, "body too short for a header");
  const salt = body.slice(0, 16);
  const rs = new DataView(body.buffer, body.byteOffset + 16, 4).getUint32(0);
  const idlen = body[20];
  const senderRaw = body.slice(21, 21 + idlen);
  if (idlen !== 65) throw new Refusal(400, `keyid is ${idlen} bytes, not 65`);
  const senderKey = await crypto.subtle.importKey(
    "raw",
    senderRaw,
    { name: "ECDH", namedCurve: "P-256" },
    false,
    [],
  );
  const ecdhSecret = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "ECDH", public: senderKey },
      keys.privateKey,
      256,
    ),
  );
  const ikm = await hkdf(
    keys.auth,
    ecdhSecret,
    concat(
      encoder.encode("WebPush: info\0"),
      keys.publicRaw,
      senderRaw,
    ),
    32,
  );
  const cek = await hkdf(
    salt,
    ikm,
    encoder.encode("Content-Encoding: aes128gcm\0"),
    16,
  );
  const baseNonce = await hkdf(
    salt,
    ikm,
    encoder.encode("Content-Encoding: nonce\0"),
    12,
  );
  const aes = await crypto.subtle.importKey("raw", cek, "AES-GCM", false, [
    "decrypt",
  ]);
  const records = body.slice(21 + idlen);
  const plain: Uint8Array[] = [];
  for (let i = 0, at = 0; at < records.length; i++, at += rs) {
    const nonce = baseNonce.slice();
    // The record sequence number is XORed into the last 6 bytes.
    const view = new DataView(nonce.buffer);
    view.setUint32(8, view.getUint32(8) ^ i);
    const record = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce, tagLength: 128 },
        aes,
        records.slice(at, at + rs),
      ),
    );
    // Padding: trailing zeros, then the delimiter (2 = last record, 1 = more).
    let end = record.length - 1;
    while (end >= 0 && record[end] === 0) end--;
    const last = at + rs >= records.length;
    if (end < 0 || record[end] !== (last ? 2 : 1)) {
      throw new Refusal(400, `record ${i} has a bad padding delimiter`);
    }
    plain.push(record.slice(0, end));
  }
  return concat(...plain);
}

/** Starts the service on 127.0.0.1 and a free port. */
export function startTestPushService(): TestPushService {
  const subscriptions = new Map<string, Keys>();
  const scripted = new Map<string, ScriptedAnswer & { left: number }>();
  const attemptCounts = new Map<string, number>();
  const received: ReceivedNotification[] = [];
  const rejected: RejectedRequest[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const id = url.pathname.match(/^\/push\/([A-Za-z0-9_-]+)$/)?.[1];
    const body = new Uint8Array(await req.arrayBuffer());
    const refuse = (
      status: number,
      reason: string,
      headers: Record<string, string> = {},
    ) => {
      rejected.push({ path: url.pathname, status, reason });
      notify();
      return new Response(reason, { status, headers });
    };
    if (req.method !== "POST" || id === undefined) {
      return refuse(404, `no such endpoint: ${req.method} ${url.pathname}`);
    }
    const endpoint = `${origin}/push/${id}`;
    attemptCounts.set(endpoint, (attemptCounts.get(endpoint) ?? 0) + 1);
    notify();
    const script = scripted.get(endpoint);
    if (script !== undefined && script.left > 0) {
      script.left--;
      return refuse(script.status, `scripted ${script.status}`, script.headers);
    }
    const keys = subscriptions.get(id);
    if (keys === undefined) return refuse(410, `unknown subscription ${id}`);
    try {
      const vapid = await verifyVapid(req.headers.get("authorization"), origin);
      if (req.headers.get("content-encoding") !== "aes128gcm") {
        throw new Refusal(
          415,
          `Content-Encoding ${req.headers.get("content-encoding")}`,
        );
      }
      if (req.headers.get("ttl") === null) {
        throw new Refusal(400, "no TTL header");
      }
      const text = new TextDecoder("utf-8", { fatal: true }).decode(
        await decrypt(body, keys),
      );
      received.push({
        subscriptionId: id,
        endpoint,
        payload: JSON.parse(text),
        text,
        topic: req.headers.get("topic"),
        ttl: req.headers.get("ttl"),
        urgency: req.headers.get("urgency"),
        vapidKey: vapid.key,
        claims: vapid.claims,
      });
      notify();
      return new Response(null, { status: 201 });
    } catch (error) {
      if (error instanceof Refusal) return refuse(error.status, error.message);
      return refuse(
        400,
        `could not decrypt: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
  };

  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, handle);
  const origin = `http://127.0.0.1:${server.addr.port}`;

  const describe = () =>
    `received ${received.length}: ${
      JSON.stringify(received.map((r) => [r.subscriptionId, r.payload]))
    }; rejected ${rejected.length}: ${JSON.stringify(rejected)}`;

  const service: TestPushService = {
    url: origin,
    async subscribe() {
      const pair = await crypto.subtle.generateKey(
        { name: "ECDH", namedCurve: "P-256" },
        true,
        ["deriveBits"],
      );
      const publicRaw = new Uint8Array(
        await crypto.subtle.exportKey("raw", pair.publicKey),
      );
      const auth = crypto.getRandomValues(new Uint8Array(16));
      const id = crypto.randomUUID();
      subscriptions.set(id, { privateKey: pair.privateKey, publicRaw, auth });
      return {
        id,
        endpoint: `${origin}/push/${id}`,
        keys: { p256dh: b64url(publicRaw), auth: b64url(auth) },
      };
    },
    answer(endpoint, answer) {
      scripted.set(endpoint, { ...answer, left: answer.times ?? Infinity });
    },
    received,
    rejected,
    receivedBy: (endpoint) => received.filter((r) => r.endpoint === endpoint),
    attempts: (endpoint) => attemptCounts.get(endpoint) ?? 0,
    waitFor(predicate, description, timeoutMs = 10_000) {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        // A bound, not a pause: it only turns a hang into a readable failure.
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${description}; ${describe()}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
      });
    },
    waitForCount(n, endpoint, timeoutMs) {
      return service.waitFor(
        () =>
          (endpoint === undefined
            ? received
            : received.filter((r) => r.endpoint === endpoint)).length >= n,
        `${n} notification(s)${endpoint ? ` for ${endpoint}` : ""}`,
        timeoutMs,
      );
    },
    async close() {
      await server.shutdown();
    },
  };
  return service;
}
