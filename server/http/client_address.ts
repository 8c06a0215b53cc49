import type { Context } from "hono";
import { inAddressRange, parseIpAddress, type ProxyTrust } from "../config.ts";

/** Longest client address kept (a rate-limit key; longer is junk). */
const MAX_ADDRESS_LENGTH = 100;

/** The connecting peer's address, from Deno.serve's handler info (Hono's env); undefined in app.request() tests. */
export function peerAddress(c: Context): string | undefined {
  const info = c.env as
    | Partial<Deno.ServeHandlerInfo<Deno.NetAddr>>
    | undefined;
  return info?.remoteAddr?.hostname;
}

/**
 * One X-Forwarded-For entry without what some proxies add around the
 * address: `[v6]`, `[v6]:port`, `v4:port`.
 */
function bareAddress(entry: string): string {
  const bracketed = entry.match(/^\[([^\]]*)\](?::\d+)?$/);
  if (bracketed) return bracketed[1];
  const v4WithPort = entry.match(/^(\d+\.\d+\.\d+\.\d+):\d+$/);
  return v4WithPort ? v4WithPort[1] : entry;
}

function inRanges(address: string, trust: ProxyTrust): boolean {
  if (trust.kind !== "ranges") return false;
  const bytes = parseIpAddress(address);
  return bytes !== null && trust.ranges.some((r) => inAddressRange(bytes, r));
}

/** Whether the connecting peer is a proxy whose X-Forwarded-* headers count (with a hop count: any peer). */
export function isTrustedPeer(
  peer: string | undefined,
  trust: ProxyTrust,
): boolean {
  if (trust.kind === "hops") return true;
  return peer !== undefined && inRanges(peer, trust);
}

/**
 * The client's address from the peer's and the X-Forwarded-For chain: the
 * right-most hop that is not a trusted proxy (with a hop count, the entry
 * that many hops from the end). Only a trusted peer's X-Forwarded-For is
 * read at all, since anyone can send one; each trusted proxy appends the
 * address it saw, so entries left of the first untrusted hop are the
 * client's own claims and never count.
 */
export function resolveClientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trust: ProxyTrust,
): string {
  const direct = peer ?? "unknown";
  if (!isTrustedPeer(peer, trust) || !forwardedFor?.trim()) return direct;
  const chain = forwardedFor.split(",").map((e) => bareAddress(e.trim()));
  let client = direct;
  for (let i = chain.length - 1, hop = 1; i >= 0; i--, hop++) {
    client = chain[i];
    const proxy = trust.kind === "hops"
      ? hop < trust.hops
      : inRanges(client, trust);
    if (!proxy) break;
  }
  return (client || "unknown").slice(0, MAX_ADDRESS_LENGTH);
}

/**
 * The address rate limits are counted against: the client's, as far as the
 * proxies named in TRUST_PROXY vouch for it (see resolveClientAddress).
 */
export function clientAddress(c: Context, trust: ProxyTrust): string {
  return resolveClientAddress(
    peerAddress(c),
    c.req.header("x-forwarded-for"),
    trust,
  );
}
