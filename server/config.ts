// This module imports nothing of Plaza's: every room may import it, and the
// defaults and value formats the environment is parsed into live here.

/** How much a logger writes, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The levels in order, for config parsing and comparisons. */
export const LOG_LEVELS: readonly LogLevel[] = [
  "debug",
  "info",
  "warn",
  "error",
];

/** How long a request body may take to arrive (`BODY_TIMEOUT_MS`'s default). */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/**
 * The public browser push services: Chrome and most Chromium browsers (FCM),
 * Firefox (Mozilla autopush), Edge (Windows Push Notification Services, e.g.
 * wns2-par02p.notify.windows.com) and Safari (Apple, web.push.apple.com).
 */
export const DEFAULT_PUSH_SERVICE_HOSTS: readonly string[] = [
  "fcm.googleapis.com",
  "updates.push.services.mozilla.com",
  "*.push.services.mozilla.com",
  "*.notify.windows.com",
  "web.push.apple.com",
  "*.push.apple.com",
];

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
// Exact: at least one label. Wildcard: at least two labels under "*.", so
// "*.com" cannot open a whole top-level domain.
const EXACT = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const WILDCARD = new RegExp(`^\\*\\.${LABEL}(?:\\.${LABEL})+$`);

/** A host pattern in canonical (lower-case) form, or null when it is not one. */
export function parseHostPattern(raw: string): string | null {
  const pattern = raw.trim().toLowerCase();
  return EXACT.test(pattern) || WILDCARD.test(pattern) ? pattern : null;
}

/** Everything Plaza reads from its environment, parsed once at start-up. */
export interface Config {
  /** TCP port to serve on (`PORT`, default 8000). */
  port: number;
  /** Interface to bind (`HOST`, default 0.0.0.0). Not HOSTNAME: Docker and shells set that to the machine name. */
  hostname: string;
  /** External Postgres (`DATABASE_URL`); when absent an embedded PGlite is used. */
  databaseUrl: string | null;
  /** Where the embedded database keeps its files (`DATA_DIR`, default ./data). */
  dataDir: string;
  /** Interval between SSE heartbeat comments (`HEARTBEAT_MS`, default 15000). */
  heartbeatMs: number;
  /** Reconnect delay suggested to EventSource clients (`SSE_RETRY_MS`, default 2000). */
  sseRetryMs: number;
  /** How long a POST body may take to arrive before a 408 (`BODY_TIMEOUT_MS`, default 10000). */
  bodyTimeoutMs: number;
  /** Bytes a stream may have queued before the client is dropped as too slow (`STREAM_BUFFER_BYTES`). */
  streamBufferBytes: number;
  /** Directory with the built client (`DIST_DIR`, default ./dist). */
  distDir: string;
  /** Other sites allowed to POST from a browser (`ALLOWED_ORIGINS`, comma-separated). */
  allowedOrigins: string[];
  /** Messages per client address (`POST_RATE`, default 10/10s; `POST_BURST`, default 5); null = `off`. */
  postLimit: RateLimit | null;
  /** Typing notices per client address (`TYPING_RATE`, default 1/2s; `TYPING_BURST`, default 3); null = `off`. */
  typingLimit: RateLimit | null;
  /** Wrong bearer tokens per client address (`AUTH_FAILURE_RATE`, default 1/1m; `AUTH_FAILURE_BURST`, default 10); null = `off`. */
  authFailureLimit: RateLimit | null;
  /** Open streams per client address (`STREAMS_PER_ADDRESS`, default 20; `off` = Infinity). */
  streamsPerAddress: number;
  /** Open streams on this instance before new ones get 503 (`MAX_STREAMS`, default 20000; `off` = Infinity). */
  maxStreams: number;
  /** Whether to take the client address from X-Forwarded-For (`TRUST_PROXY`, default false). */
  trustProxy: boolean;
  /** A stream is closed after about this long, so load rebalances (`STREAM_MAX_AGE_MS`, default 30 min; 0 = never). */
  streamMaxAgeMs: number;
  /** Enables DELETE /messages/:id for whoever holds it (`ADMIN_TOKEN`); null = no moderation route. */
  adminToken: string | null;
  /** Least severe log events written (`LOG_LEVEL`: debug, info, warn, error; default info). */
  logLevel: LogLevel;
  /** When set, GET /metrics needs it as a bearer token (`METRICS_TOKEN`); null = open. */
  metricsToken: string | null;
  /** Web Push: VAPID identity and the notification dispatcher's timings. */
  push: PushConfig;
  /** A claimed name unused this many days (no post, edit or reaction with its token) goes to the next who claims it (`NAME_IDLE_DAYS`, default 180; 0 = never). */
  nameIdleDays: number;
}

/** Web Push settings (`VAPID_*`, `PUSH_*`). */
export interface PushConfig {
  /** `VAPID_PUBLIC_KEY` and `VAPID_PRIVATE_KEY` (base64url); null = made once and kept in the database. */
  vapidKeys: { publicKey: string; privateKey: string } | null;
  /** Who push services may contact about this sender (`VAPID_SUBJECT`, a mailto: or https: URL). */
  subject: string;
  /** Least time between two notifications to one subscriber, mentions aside (`PUSH_INTERVAL_MS`, default 60000). */
  intervalMs: number;
  /** Delay before the first retry after a 429 or 5xx; doubles per attempt (`PUSH_RETRY_MS`, default 10000). */
  retryMs: number;
  /** Sends of one notification before it is given up (`PUSH_MAX_ATTEMPTS`, default 8). */
  maxAttempts: number;
  /** How long one request to a push service may take (`PUSH_SEND_TIMEOUT_MS`, default 10000). */
  sendTimeoutMs: number;
  /** How often the queue is checked without a wake-up, e.g. for another instance's unfinished work (`PUSH_POLL_MS`, default 5000). */
  pollMs: number;
  /** Hosts Plaza sends push requests to; `*.` covers the names below a domain (`PUSH_SERVICE_HOSTS`, default: the browsers' push services). */
  serviceHosts: string[];
  /** Also accept http://127.0.0.1 and http://localhost endpoints (`PUSH_ALLOW_INSECURE_ENDPOINTS`; for tests only). */
  allowInsecureEndpoints: boolean;
}

/** A token bucket: `burst` at once, refilled at `perSecond`. */
export interface RateLimit {
  burst: number;
  perSecond: number;
}

/** Environment variables as a plain record, e.g. `Deno.env.toObject()`. */
export type Env = Record<string, string | undefined>;

/** Thrown when the environment holds a value Plaza cannot use. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function integer(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(
      `${name} must be a whole number from ${min} to ${max}, got "${raw}".`,
    );
  }
  return Number(raw);
}

function rate(
  env: Env,
  name: string,
  burstName: string,
  fallback: string,
  fallbackBurst: number,
): RateLimit | null {
  const raw = env[name]?.trim() || fallback;
  // For load tests and trusted networks; never the default.
  if (raw.toLowerCase() === "off") return null;
  const m = raw.match(/^(\d{1,6})\/(\d{0,6})(s|m)$/);
  const count = m ? Number(m[1]) : 0;
  const span = m ? Number(m[2] || "1") * (m[3] === "m" ? 60 : 1) : 0;
  if (!m || count === 0 || span === 0) {
    throw new ConfigError(
      `${name} must look like 10/10s or 30/1m (count per time), or off, got "${raw}".`,
    );
  }
  return {
    perSecond: count / span,
    burst: integer(env, burstName, fallbackBurst, 1, 1_000_000),
  };
}

/** Like integer(), but `off` means no limit at all (Infinity). */
function limit(
  env: Env,
  name: string,
  fallback: number,
  max: number,
): number {
  if (env[name]?.trim().toLowerCase() === "off") return Infinity;
  return integer(env, name, fallback, 1, max);
}

function flag(env: Env, name: string): boolean {
  const raw = env[name]?.trim().toLowerCase() ?? "";
  if (["", "0", "false", "no", "off"].includes(raw)) return false;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  throw new ConfigError(`${name} must be true or false, got "${raw}".`);
}

function text(env: Env, name: string): string | null {
  const raw = env[name]?.trim();
  return raw ? raw : null;
}

function logLevel(env: Env, name: string): LogLevel {
  const raw = env[name]?.trim().toLowerCase() || "info";
  const level = LOG_LEVELS.find((l) => l === raw);
  if (level === undefined) {
    throw new ConfigError(
      `${name} must be one of ${LOG_LEVELS.join(", ")}, got "${raw}".`,
    );
  }
  return level;
}

function origins(env: Env, name: string): string[] {
  const raw = text(env, name);
  if (raw === null) return [];
  return raw.split(",").map((s) => s.trim()).filter((s) => s !== "").map(
    (origin) => {
      let url: URL | null = null;
      try {
        url = new URL(origin);
      } catch {
        // Reported below.
      }
      if (url === null || url.origin !== origin) {
        throw new ConfigError(
          `${name} must list origins like https://chat.example.com (scheme, host, optional port; no path), got "${origin}".`,
        );
      }
      return origin;
    },
  );
}

/** Bytes of a base64url value, or null when it is not base64url. */
function base64urlBytes(value: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]+=*$/.test(value)) return null;
  try {
    return Uint8Array.fromBase64(value, { alphabet: "base64url" });
  } catch {
    return null;
  }
}

function hostPatterns(env: Env, name: string): string[] {
  const raw = text(env, name);
  if (raw === null) return [...DEFAULT_PUSH_SERVICE_HOSTS];
  const patterns = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (patterns.length === 0) {
    throw new ConfigError(
      `${name} must list at least one host, e.g. fcm.googleapis.com,*.push.apple.com; unset it for the browsers' push services.`,
    );
  }
  return patterns.map((pattern) => {
    const parsed = parseHostPattern(pattern);
    if (parsed === null) {
      throw new ConfigError(
        `${name} must list host names separated by commas, each exact (fcm.googleapis.com) or *. and a domain of at least two labels for the names below it (*.push.apple.com), without scheme, port or path; got "${pattern}".`,
      );
    }
    return parsed;
  });
}

function push(env: Env): PushConfig {
  const publicKey = text(env, "VAPID_PUBLIC_KEY");
  const privateKey = text(env, "VAPID_PRIVATE_KEY");
  const make =
    "make a pair with `deno run --allow-env npm:web-push@3.6.7 generate-vapid-keys`, or unset both and Plaza makes one and keeps it in the database";
  if ((publicKey === null) !== (privateKey === null)) {
    throw new ConfigError(
      `VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY go together: set both or neither (${make}).`,
    );
  }
  if (publicKey !== null) {
    const bytes = base64urlBytes(publicKey);
    if (bytes === null || bytes.length !== 65 || bytes[0] !== 4) {
      throw new ConfigError(
        `VAPID_PUBLIC_KEY must be an uncompressed P-256 public key in base64url (65 bytes, 87 characters); ${make}.`,
      );
    }
  }
  if (privateKey !== null) {
    const bytes = base64urlBytes(privateKey);
    if (bytes === null || bytes.length !== 32) {
      throw new ConfigError(
        `VAPID_PRIVATE_KEY must be a P-256 private key in base64url (32 bytes, 43 characters); ${make}.`,
      );
    }
  }
  // Push services (Apple's in particular) refuse a JWT without a contact.
  const subject = text(env, "VAPID_SUBJECT") ?? "mailto:plaza@example.com";
  if (!/^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/.test(subject)) {
    throw new ConfigError(
      `VAPID_SUBJECT must be a mailto: address or an https: URL where push services can reach you, e.g. mailto:you@example.com; got "${subject}".`,
    );
  }
  return {
    vapidKeys: publicKey !== null && privateKey !== null
      ? { publicKey, privateKey }
      : null,
    subject,
    intervalMs: integer(env, "PUSH_INTERVAL_MS", 60_000, 0, 86_400_000),
    retryMs: integer(env, "PUSH_RETRY_MS", 10_000, 1, 3_600_000),
    maxAttempts: integer(env, "PUSH_MAX_ATTEMPTS", 8, 1, 100),
    sendTimeoutMs: integer(env, "PUSH_SEND_TIMEOUT_MS", 10_000, 100, 120_000),
    pollMs: integer(env, "PUSH_POLL_MS", 5_000, 10, 600_000),
    serviceHosts: hostPatterns(env, "PUSH_SERVICE_HOSTS"),
    allowInsecureEndpoints: flag(env, "PUSH_ALLOW_INSECURE_ENDPOINTS"),
  };
}

/** Parses and checks the environment; throws ConfigError saying which variable is wrong. */
export function loadConfig(env: Env): Config {
  const databaseUrl = text(env, "DATABASE_URL");
  if (text(env, "DENO_DEPLOYMENT_ID") !== null && databaseUrl === null) {
    // Each Deploy isolate would get its own embedded database: a room per
    // isolate, silently. Refuse instead.
    throw new ConfigError(
      "on Deno Deploy Plaza needs DATABASE_URL (a direct or session-mode Postgres connection string); the embedded database would be separate in every isolate.",
    );
  }
  const adminToken = text(env, "ADMIN_TOKEN");
  if (adminToken !== null && adminToken.length < 16) {
    throw new ConfigError(
      "ADMIN_TOKEN must be at least 16 characters; make one with `openssl rand -hex 32`.",
    );
  }
  const metricsToken = text(env, "METRICS_TOKEN");
  if (metricsToken !== null && metricsToken.length < 16) {
    throw new ConfigError(
      "METRICS_TOKEN must be at least 16 characters; make one with `openssl rand -hex 32`.",
    );
  }
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(
      "DATABASE_URL must start with postgres:// or postgresql://.",
    );
  }
  return {
    port: integer(env, "PORT", 8000, 0, 65535),
    hostname: text(env, "HOST") ?? "0.0.0.0",
    databaseUrl,
    dataDir: text(env, "DATA_DIR") ?? "./data",
    heartbeatMs: integer(env, "HEARTBEAT_MS", 15_000, 10, 3_600_000),
    sseRetryMs: integer(env, "SSE_RETRY_MS", 2_000, 0, 600_000),
    bodyTimeoutMs: integer(
      env,
      "BODY_TIMEOUT_MS",
      DEFAULT_BODY_TIMEOUT_MS,
      100,
      600_000,
    ),
    streamBufferBytes: integer(
      env,
      "STREAM_BUFFER_BYTES",
      1024 * 1024,
      1024,
      1024 * 1024 * 1024,
    ),
    distDir: text(env, "DIST_DIR") ?? "./dist",
    allowedOrigins: origins(env, "ALLOWED_ORIGINS"),
    postLimit: rate(env, "POST_RATE", "POST_BURST", "10/10s", 5),
    typingLimit: rate(env, "TYPING_RATE", "TYPING_BURST", "1/2s", 3),
    authFailureLimit: rate(
      env,
      "AUTH_FAILURE_RATE",
      "AUTH_FAILURE_BURST",
      "1/1m",
      10,
    ),
    streamsPerAddress: limit(env, "STREAMS_PER_ADDRESS", 20, 1_000_000),
    maxStreams: limit(env, "MAX_STREAMS", 20_000, 10_000_000),
    trustProxy: flag(env, "TRUST_PROXY"),
    streamMaxAgeMs: integer(
      env,
      "STREAM_MAX_AGE_MS",
      30 * 60_000,
      0,
      7 * 24 * 3_600_000,
    ),
    adminToken,
    logLevel: logLevel(env, "LOG_LEVEL"),
    metricsToken,
    push: push(env),
    nameIdleDays: integer(env, "NAME_IDLE_DAYS", 180, 0, 36_500),
  };
}
