// This module imports nothing of Plaza's outside server/config/: every room
// may import it, and the defaults and value formats the environment is parsed
// into live here.

import {
  type AddressRange,
  inAddressRange,
  MAX_TRUSTED_HOPS,
  NAMED_ADDRESS_RANGES,
  parseAddressRange,
  parseIpAddress,
  type ProxyTrust,
  TRUST_NO_PROXY,
} from "./config/addresses.ts";
import {
  type AttachmentConfig,
  attachmentConfig,
} from "./config/attachments.ts";
import {
  databaseHosts,
  type DatabaseTls,
  databaseTls,
  isLocalHost,
  SSL_MODES,
  type SslMode,
} from "./config/database_tls.ts";

export {
  databaseHosts,
  type DatabaseTls,
  isLocalHost,
  SSL_MODES,
  type SslMode,
};
export {
  type AddressRange,
  inAddressRange,
  MAX_TRUSTED_HOPS,
  NAMED_ADDRESS_RANGES,
  parseAddressRange,
  parseIpAddress,
  type ProxyTrust,
  TRUST_NO_PROXY,
};

/** How much a logger writes, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The levels in order, for config parsing and comparisons. */
export const LOG_LEVELS: readonly LogLevel[] = [
  "debug",
  "info",
  "warn",
  "error",
];

/**
 * Connections in each instance's query pool (`DATABASE_POOL_MAX`'s default).
 * The instance holds one more for LISTEN. Small, because managed Postgres
 * plans allow few connections and every instance of a scaled-out app takes
 * its own pool; queries are short, and commits go one at a time anyway.
 */
export const DEFAULT_DATABASE_POOL_MAX = 5;

const MiB = 1024 * 1024;

/** Deno Deploy's runtime memory limit unless raised (denoland/docs deploy/reference/builds.md, "Runtime memory limit"). */
export const DENO_DEPLOY_MEMORY_LIMIT_MB = 768;
/** Memory one open stream costs, idle (docs/benchmarks.md: 64.7 KB each at 19,909 streams). */
export const STREAM_MEMORY_BYTES = 65 * 1024;
/** An instance on Postgres before any stream (66–81 MiB measured), rounded up. */
export const BASE_MEMORY_BYTES = 96 * MiB;
/** What the embedded database adds (PGlite: about 530 MiB measured at start), rounded up. */
export const EMBEDDED_DATABASE_MEMORY_BYTES = 576 * MiB;
/** Share of the memory limit kept free of streams: bursts of messages, slow clients' buffers, garbage not yet collected. */
export const MEMORY_HEADROOM_SHARE = 0.25;
/** `MAX_STREAMS` when the memory limit is not known either. */
export const DEFAULT_MAX_STREAMS = 20_000;

/**
 * Streams that fit in `memoryBytes` (MAX_STREAMS's default): what is left
 * after the headroom, the instance itself and the embedded database, at
 * STREAM_MEMORY_BYTES each; at least 1. Beyond it new streams get 503 with
 * Retry-After instead of the instance running out of memory.
 */
export function streamsForMemory(
  memoryBytes: number,
  embeddedDatabase: boolean,
): number {
  const usable = memoryBytes * (1 - MEMORY_HEADROOM_SHARE) -
    BASE_MEMORY_BYTES -
    (embeddedDatabase ? EMBEDDED_DATABASE_MEMORY_BYTES : 0);
  return Math.max(1, Math.floor(usable / STREAM_MEMORY_BYTES));
}

/** What the caller measured of the machine; loadConfig itself reads only the environment. */
export interface SystemFacts {
  /** Memory this process may use (its cgroup's limit, else the machine's total), in bytes; null = unknown. */
  memoryBytes?: number | null;
}

/** Automatic slow mode's defaults: on when the room gets 30 new messages within 10 s… */
export const DEFAULT_SLOW_MODE_AUTO_RATE = "30/10s";
/** …then one message per name per 5 s… */
export const DEFAULT_SLOW_MODE_AUTO_SECONDS = 5;
/** …until 5 minutes after the traffic fell below that. */
export const DEFAULT_SLOW_MODE_AUTO_HOLD_MS = 5 * 60_000;
/** How often each instance runs the (one-query) traffic check. */
export const DEFAULT_SLOW_MODE_CHECK_MS = 5_000;

/** How long a request body may take to arrive (`BODY_TIMEOUT_MS`'s default). */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/**
 * How long a stopping instance keeps serving while /readyz says 503
 * (`DRAIN_MS`'s default): long enough for a balancer polling every second
 * to see it, short enough that draining, ending streams, the shutdown grace
 * and closing the database fit in the 5 s Deno Deploy allows between its
 * SIGINT and SIGKILL.
 */
export const DEFAULT_DRAIN_MS = 1_500;

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

/**
 * The variables Deno Deploy sets itself (denoland/docs
 * deploy/reference/env_vars_and_contexts.md, "Predefined environment
 * variables", and builds.md, "Build environment"). Any one of them means
 * Deploy: builds get DENO_DEPLOY, the ORG/APP ids and DENO_DEPLOY_BUILD_ID
 * but no DENO_TIMELINE; the pre-deploy command and the running app get
 * DENO_TIMELINE too. Not DENO_DEPLOY_TOKEN or DENO_DEPLOY_ENDPOINT: users set
 * those for the `deno deploy` CLI on their own machines.
 */
export const DENO_DEPLOY_VARIABLES: readonly string[] = [
  "DENO_DEPLOY",
  "DENO_DEPLOYMENT_ID",
  "DENO_DEPLOY_BUILD_ID",
  "DENO_TIMELINE",
  "DENO_DEPLOY_ORG_ID",
  "DENO_DEPLOY_ORG_SLUG",
  "DENO_DEPLOY_APP_ID",
  "DENO_DEPLOY_APP_SLUG",
];

/** True when `env` is Deno Deploy's (build, pre-deploy or run time). */
export function onDenoDeploy(env: Env): boolean {
  // Whether set, not to what: the docs say DENO_DEPLOY=true, the changelog 1.
  return DENO_DEPLOY_VARIABLES.some((name) => text(env, name) !== null);
}

/** Everything Plaza reads from its environment, parsed once at start-up. */
export interface Config {
  /** TCP port to serve on (`PORT`, default 8000). */
  port: number;
  /** Interface to bind (`HOST`, default 0.0.0.0). Not HOSTNAME: Docker and shells set that to the machine name. */
  hostname: string;
  /** Running on Deno Deploy (any of DENO_DEPLOY_VARIABLES set). */
  denoDeploy: boolean;
  /** External Postgres (`DATABASE_URL`); when absent an embedded PGlite is used. */
  databaseUrl: string | null;
  /** TLS towards that Postgres (`sslmode`/`PGSSLMODE`, `sslrootcert`/`PGSSLROOTCERT`); null without DATABASE_URL. */
  databaseTls: DatabaseTls | null;
  /** Query connections per instance (`DATABASE_POOL_MAX`, default 5); LISTEN takes one more. */
  databasePoolMax: number;
  /** Where the embedded database keeps its files (`DATA_DIR`, default ./data). */
  dataDir: string;
  /** Interval between SSE heartbeat comments (`HEARTBEAT_MS`, default 15000). */
  heartbeatMs: number;
  /** Reconnect delay suggested to EventSource clients (`SSE_RETRY_MS`, default 2000). */
  sseRetryMs: number;
  /** How long a POST body may take to arrive before a 408 (`BODY_TIMEOUT_MS`, default 10000). */
  bodyTimeoutMs: number;
  /** On SIGTERM/SIGINT, how long to keep serving with /readyz at 503 before ending streams (`DRAIN_MS`, default 1500). */
  drainMs: number;
  /** Bytes a stream may have queued before the client is dropped as too slow (`STREAM_BUFFER_BYTES`). */
  streamBufferBytes: number;
  /** Directory with the built client (`DIST_DIR`, default ./dist). */
  distDir: string;
  /** Other sites allowed to POST from a browser (`ALLOWED_ORIGINS`, comma-separated). */
  allowedOrigins: string[];
  /** Sites whose pages may frame /embed (`EMBED_ORIGINS`, comma-separated; none by default): its `frame-ancestors`. */
  embedOrigins: string[];
  /** The origin browsers reach Plaza at (`PUBLIC_URL`, e.g. https://chat.example.com); always allowed to POST. */
  publicUrl: string | null;
  /** Messages per client address (`POST_RATE`, default 10/10s; `POST_BURST`, default 5); null = `off`. */
  postLimit: RateLimit | null;
  /** Typing notices per client address (`TYPING_RATE`, default 1/2s; `TYPING_BURST`, default 3); null = `off`. */
  typingLimit: RateLimit | null;
  /** Reports of messages per client address (`REPORT_RATE`, default 5/10m; `REPORT_BURST`, default 5); null = `off`. */
  reportLimit: RateLimit | null;
  /** Wrong bearer tokens per client address (`AUTH_FAILURE_RATE`, default 1/1m; `AUTH_FAILURE_BURST`, default 10); null = `off`. */
  authFailureLimit: RateLimit | null;
  /** Open streams per client address (`STREAMS_PER_ADDRESS`, default 20; `off` = Infinity). */
  streamsPerAddress: number;
  /** Memory the instance may use, in MiB (`MEMORY_LIMIT_MB`; default 768 on Deno Deploy, else the cgroup limit or total memory); null = unknown. */
  memoryLimitMb: number | null;
  /** Open streams on this instance before new ones get 503 (`MAX_STREAMS`; default streamsForMemory(memoryLimitMb), or 20000 when unknown; `off` = Infinity). */
  maxStreams: number;
  /** Which peers are proxies whose X-Forwarded-* headers count (`TRUST_PROXY`: addresses/CIDRs, a hop count, true or false). */
  trustProxy: ProxyTrust;
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
  /** The room's automatic slow mode (`SLOW_MODE_AUTO`, `SLOW_MODE_AUTO_*`, `SLOW_MODE_CHECK_MS`); null = `off`. */
  slowModeAuto: SlowModeAuto | null;
  /** A claimed name unused this many days (no post, edit or reaction with its token) goes to the next who claims it (`NAME_IDLE_DAYS`, default 180; 0 = never). */
  nameIdleDays: number;
  /** Messages older than this many days are removed, with what a delete removes (`RETENTION_DAYS`; 0, the default, keeps them). */
  retentionDays: number;
  /** Fetch a preview of each message's first link (`LINK_PREVIEWS`, default on; off = no outgoing requests). */
  linkPreviews: boolean;
  /** Pictures: caps, storage, upload limits (config/attachments.ts). */
  attachments: AttachmentConfig;
  /** Names claimed and addresses first seen less than this many minutes ago may not post links or pictures (`NEWCOMER_DELAY_MINUTES`, default 0 = off). */
  newcomerDelayMinutes: number;
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

/** When the room switches to slow mode by itself. */
export interface SlowModeAuto {
  /** On after this many new messages (`SLOW_MODE_AUTO_RATE`, default 30/10s)… */
  messages: number;
  /** …within this many seconds. */
  windowSeconds: number;
  /** One message per name per this many seconds (`SLOW_MODE_AUTO_SECONDS`, default 5). */
  seconds: number;
  /** Kept on this long after the traffic fell below the rate (`SLOW_MODE_AUTO_HOLD_MS`, default 300000). */
  holdMs: number;
  /** How often each instance checks (`SLOW_MODE_CHECK_MS`, default 5000). */
  checkMs: number;
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

/** A variable's value, or null when unset or blank. */
export function text(env: Env, name: string): string | null {
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

// Each becomes a CSP source: a `;` or `,` that URL parsing lets through
// would start another directive, so only plain hosts (a leading `*.` for
// subdomains) and IP literals.
const CSP_ORIGIN =
  /^https?:\/\/((\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+|\[[0-9a-f:.]+\])(:\d+)?$/;

function embedOrigins(env: Env): string[] {
  const list = origins(env, "EMBED_ORIGINS");
  const bad = list.find((origin) => !CSP_ORIGIN.test(origin));
  if (bad !== undefined) {
    throw new ConfigError(
      `EMBED_ORIGINS must list http(s) origins like https://blog.example.com (a leading *. covers its subdomains), got "${bad}".`,
    );
  }
  return list;
}

function publicUrl(env: Env, name: string): string | null {
  const raw = text(env, name);
  if (raw === null) return null;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    // Reported below.
  }
  if (
    url === null || !/^https?:$/.test(url.protocol) || url.username !== "" ||
    url.password !== "" || url.pathname !== "/" || url.search !== "" ||
    url.hash !== ""
  ) {
    throw new ConfigError(
      `${name} must be the http(s) address browsers open Plaza at, like https://chat.example.com (Plaza serves at the root: no path), got "${raw}".`,
    );
  }
  return url.origin;
}

function proxyTrust(env: Env, name: string): ProxyTrust {
  const raw = env[name]?.trim().toLowerCase() ?? "";
  if (["", "0", "false", "no", "off"].includes(raw)) return TRUST_NO_PROXY;
  // The old boolean: the peer, whoever it is, is the one proxy.
  if (["true", "yes", "on"].includes(raw)) return { kind: "hops", hops: 1 };
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > MAX_TRUSTED_HOPS) {
      throw new ConfigError(
        `${name} as a hop count must be 1 to ${MAX_TRUSTED_HOPS}, got "${raw}".`,
      );
    }
    return { kind: "hops", hops };
  }
  const ranges: AddressRange[] = [];
  for (const entry of raw.split(",").map((s) => s.trim())) {
    const named = NAMED_ADDRESS_RANGES[entry];
    const parsed = named
      ? named.map((r) => parseAddressRange(r))
      : [parseAddressRange(entry)];
    for (const range of parsed) {
      if (range === null) {
        throw new ConfigError(
          `${name} must list the proxies' addresses or CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8,fd00::/8; or ${
            Object.keys(NAMED_ADDRESS_RANGES).join(", ")
          }), or be a hop count, true or false; got "${entry}".`,
        );
      }
      ranges.push(range);
    }
  }
  return { kind: "ranges", ranges };
}

/** What to warn about at start-up for `trust`, or null: a hop count (or true) believes any peer. */
export function proxyTrustWarning(trust: ProxyTrust): string | null {
  if (trust.kind !== "hops") return null;
  return `TRUST_PROXY=${
    trust.hops === 1 ? "true (1)" : trust.hops
  } takes every peer for a proxy: anyone who can reach this instance without going through the proxy can choose the client address its limits count. Name the proxies instead, e.g. TRUST_PROXY=127.0.0.1,10.0.0.0/8.`;
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

function slowModeAuto(env: Env): SlowModeAuto | null {
  const on = env.SLOW_MODE_AUTO?.trim() ? flag(env, "SLOW_MODE_AUTO") : true;
  const raw = text(env, "SLOW_MODE_AUTO_RATE") ?? DEFAULT_SLOW_MODE_AUTO_RATE;
  const m = raw.match(/^(\d{1,6})\/(\d{0,6})(s|m)$/);
  const messages = m ? Number(m[1]) : 0;
  const windowSeconds = m ? Number(m[2] || "1") * (m[3] === "m" ? 60 : 1) : 0;
  if (messages === 0 || windowSeconds === 0) {
    throw new ConfigError(
      `SLOW_MODE_AUTO_RATE must look like 30/10s or 100/1m (new messages in the room per time), got "${raw}".`,
    );
  }
  const auto = {
    messages,
    windowSeconds,
    seconds: integer(
      env,
      "SLOW_MODE_AUTO_SECONDS",
      DEFAULT_SLOW_MODE_AUTO_SECONDS,
      1,
      3600,
    ),
    holdMs: integer(
      env,
      "SLOW_MODE_AUTO_HOLD_MS",
      DEFAULT_SLOW_MODE_AUTO_HOLD_MS,
      1_000,
      86_400_000,
    ),
    checkMs: integer(
      env,
      "SLOW_MODE_CHECK_MS",
      DEFAULT_SLOW_MODE_CHECK_MS,
      50,
      600_000,
    ),
  };
  return on ? auto : null;
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
export function loadConfig(env: Env, system: SystemFacts = {}): Config {
  const databaseUrl = text(env, "DATABASE_URL");
  const denoDeploy = onDenoDeploy(env);
  if (denoDeploy && databaseUrl === null) {
    // Each Deploy instance would get its own embedded database, lost when it
    // scales to zero: a room per instance, silently. Refuse instead.
    throw new ConfigError(
      "on Deno Deploy Plaza needs DATABASE_URL, and this context has none. Attach a Postgres database to the app (its Databases tab: Deploy then sets DATABASE_URL for every timeline), or set DATABASE_URL yourself for both the Production and the Development context (preview builds boot in Development). The embedded database would be separate in every instance and lost when it stops.",
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
  // Deploy's limit is a setting of the app, not something the instance can
  // read: its default, unless MEMORY_LIMIT_MB says it was raised.
  const memoryLimitMb = env.MEMORY_LIMIT_MB?.trim()
    ? integer(env, "MEMORY_LIMIT_MB", 0, 64, 1_048_576)
    : denoDeploy
    ? DENO_DEPLOY_MEMORY_LIMIT_MB
    : typeof system.memoryBytes === "number" && system.memoryBytes > 0
    ? Math.floor(system.memoryBytes / MiB)
    : null;
  const maxStreams = limit(
    env,
    "MAX_STREAMS",
    memoryLimitMb === null
      ? DEFAULT_MAX_STREAMS
      : streamsForMemory(memoryLimitMb * MiB, databaseUrl === null),
    10_000_000,
  );
  return {
    port: integer(env, "PORT", 8000, 0, 65535),
    hostname: text(env, "HOST") ?? "0.0.0.0",
    denoDeploy,
    databaseUrl,
    databaseTls: databaseUrl === null ? null : databaseTls(databaseUrl, env),
    databasePoolMax: integer(
      env,
      "DATABASE_POOL_MAX",
      DEFAULT_DATABASE_POOL_MAX,
      1,
      1_000,
    ),
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
    drainMs: integer(env, "DRAIN_MS", DEFAULT_DRAIN_MS, 0, 600_000),
    streamBufferBytes: integer(
      env,
      "STREAM_BUFFER_BYTES",
      1024 * 1024,
      1024,
      1024 * 1024 * 1024,
    ),
    distDir: text(env, "DIST_DIR") ?? "./dist",
    allowedOrigins: origins(env, "ALLOWED_ORIGINS"),
    embedOrigins: embedOrigins(env),
    publicUrl: publicUrl(env, "PUBLIC_URL"),
    postLimit: rate(env, "POST_RATE", "POST_BURST", "10/10s", 5),
    typingLimit: rate(env, "TYPING_RATE", "TYPING_BURST", "1/2s", 3),
    reportLimit: rate(env, "REPORT_RATE", "REPORT_BURST", "5/10m", 5),
    authFailureLimit: rate(
      env,
      "AUTH_FAILURE_RATE",
      "AUTH_FAILURE_BURST",
      "1/1m",
      10,
    ),
    streamsPerAddress: limit(env, "STREAMS_PER_ADDRESS", 20, 1_000_000),
    memoryLimitMb,
    maxStreams,
    trustProxy: proxyTrust(env, "TRUST_PROXY"),
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
    retentionDays: integer(env, "RETENTION_DAYS", 0, 0, 36_500),
    slowModeAuto: slowModeAuto(env),
    linkPreviews: text(env, "LINK_PREVIEWS") === null ||
      flag(env, "LINK_PREVIEWS"),
    attachments: attachmentConfig(env, { integer, rate }),
    newcomerDelayMinutes: integer(env, "NEWCOMER_DELAY_MINUTES", 0, 0, 525_600),
  };
}
