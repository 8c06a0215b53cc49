import type { Context, MiddlewareHandler } from "hono";
import type { ProxyTrust } from "../config.ts";
import type { Logger } from "../observe/logger.ts";
import type { AppEnv } from "./app_env.ts";
import { isTrustedPeer, peerAddress } from "./client_address.ts";
import { errorResponse } from "./http_error.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Least time between two `origin_refused` log lines; the ones between are counted in the next. */
export const ORIGIN_REFUSAL_LOG_MS = 10_000;

// A host header value: name or address, optional port. Anything else (a
// path, user info) is not a host this app could be reached at.
const HOST_SHAPE = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i;

/** Who may POST from a browser, and how the app tells its own pages. */
export interface OriginPolicy {
  /** PUBLIC_URL's origin: always the app's own. */
  publicUrl?: string | null;
  /** Other sites whose pages may POST (ALLOWED_ORIGINS). */
  allowedOrigins?: readonly string[];
  /** Whose X-Forwarded-Host / -Proto and Forwarded headers count. */
  trustProxy: ProxyTrust;
  /** Where refusals are logged (warn). */
  logger?: Logger;
  /** Clock for the log interval, in ms (tests). */
  now?: () => number;
}

/** The host (and scheme, when a proxy says) the browser asked for, and which header said so. */
export interface RequestedHost {
  host: string | undefined;
  /** "http" or "https" as a trusted proxy reported it; null when unknown. */
  proto: string | null;
  source: "X-Forwarded-Host" | "Forwarded" | "Host";
}

function firstEntry(value: string | undefined): string | undefined {
  const first = value?.split(",")[0].trim();
  return first ? first : undefined;
}

/** `host` and `proto` of the first (client-facing proxy's) element of an RFC 7239 Forwarded header. */
function forwardedPairs(header: string | undefined): Map<string, string> {
  const pairs = new Map<string, string>();
  const first = header?.split(",")[0] ?? "";
  for (const pair of first.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\(.)/g, "$1");
    }
    pairs.set(pair.slice(0, eq).trim().toLowerCase(), value);
  }
  return pairs;
}

/**
 * The host the browser asked for: from a trusted proxy, its X-Forwarded-Host
 * (or Forwarded `host=`), since a proxy may send its upstream's name as Host;
 * otherwise the Host header.
 */
export function requestedHost(c: Context, trust: ProxyTrust): RequestedHost {
  const hostHeader = c.req.header("host");
  if (!isTrustedPeer(peerAddress(c), trust)) {
    return { host: hostHeader, proto: null, source: "Host" };
  }
  const forwarded = forwardedPairs(c.req.header("forwarded"));
  const proto = (firstEntry(c.req.header("x-forwarded-proto")) ??
    forwarded.get("proto"))?.toLowerCase() ?? null;
  const xfh = firstEntry(c.req.header("x-forwarded-host"));
  if (xfh !== undefined) {
    return { host: xfh, proto, source: "X-Forwarded-Host" };
  }
  const fh = forwarded.get("host");
  if (fh) return { host: fh, proto, source: "Forwarded" };
  return { host: hostHeader, proto, source: "Host" };
}

/** Whether a page at `origin` is on `requested`'s host (and scheme, when known). */
function sameOrigin(origin: URL, requested: RequestedHost): boolean {
  const { host, proto } = requested;
  if (host === undefined || !HOST_SHAPE.test(host)) return false;
  const scheme = proto ?? origin.protocol.slice(0, -1);
  if (scheme !== "http" && scheme !== "https") return false;
  try {
    // URL lower-cases the name and drops the scheme's default port.
    return new URL(`${scheme}://${host}`).origin === origin.origin;
  } catch {
    return false;
  }
}

/**
 * Refuses state-changing browser requests from other sites (403). Browsers
 * always send Origin on cross-site POSTs; requests without one (curl,
 * scripts) are not a cross-site attack and pass. The app's own pages are
 * told by PUBLIC_URL, or by the host the request was for (scheme aside
 * unless a trusted proxy names it, as TLS may end in front).
 */
export function originCheck(
  policy: OriginPolicy,
): MiddlewareHandler<AppEnv> {
  const allowed = new Set(policy.allowedOrigins ?? []);
  if (policy.publicUrl) allowed.add(policy.publicUrl);
  const now = policy.now ?? (() => performance.now());
  let loggedAt = -Infinity;
  let unlogged = 0;
  return async (c, next) => {
    const origin = c.req.header("origin");
    if (SAFE_METHODS.has(c.req.method) || origin === undefined) {
      return await next();
    }
    if (allowed.has(origin)) return await next();
    const requested = requestedHost(c, policy.trustProxy);
    let url: URL | null = null;
    try {
      url = new URL(origin);
    } catch {
      // "null" (sandboxed frames, file:) and junk are never the app's own.
    }
    if (url !== null && sameOrigin(url, requested)) return await next();
    // A hostile page can send many; one line per interval is enough to see
    // a misconfigured proxy.
    if (now() - loggedAt >= ORIGIN_REFUSAL_LOG_MS) {
      loggedAt = now();
      const compared = `${requested.proto ?? "(any scheme)"}://${
        requested.host ?? "(no host)"
      }`;
      policy.logger?.warn("origin_refused", {
        message:
          `Refused a ${c.req.method} from a page at ${origin}: this request was for ${compared} (from ${requested.source}). If browsers reach Plaza at that origin, set PUBLIC_URL to it, or have the proxy forward the Host (or X-Forwarded-Host) it received and list it in TRUST_PROXY.`,
        origin: origin.slice(0, 200),
        host: requested.host?.slice(0, 200) ?? null,
        proto: requested.proto,
        source: requested.source,
        requestId: c.get("requestId"),
        unlogged,
      });
      unlogged = 0;
    } else {
      unlogged++;
    }
    return errorResponse(
      403,
      `Requests from ${
        origin.slice(0, 100)
      } are not allowed; the server's operator can add it to ALLOWED_ORIGINS.`,
    );
  };
}
