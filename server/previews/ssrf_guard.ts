/**
 * Where the link-preview fetcher may connect: the guard against server-side
 * request forgery (a message linking to http://10.0.0.5/admin or to a name
 * that resolves to 127.0.0.1 must not make Plaza fetch it). Only http and
 * https, only ports 80 and 443, only public unicast addresses, checked after
 * Plaza resolves the name itself; the fetcher then connects to the very
 * address checked (fetch_preview.ts), so a second DNS answer cannot differ.
 */
import {
  type AddressRange,
  inAddressRange,
  parseAddressRange,
  parseIpAddress,
} from "../config.ts";

/** Ports a preview may be fetched from: the web's defaults, not other services on a public host (SMTP, Redis…). */
export const PREVIEW_PORTS: readonly number[] = [80, 443];

/** How long resolving a link's host may take. */
export const DNS_TIMEOUT_MS = 2_000;

/**
 * Ranges that are not the public Internet (IANA's special-purpose registries,
 * RFC 6890 and successors). IPv4 addresses are held as IPv4-mapped IPv6, so
 * ::ffff:127.0.0.1 is checked as 127.0.0.1. IPv6 forms that carry an IPv4
 * address elsewhere (IPv4-compatible, NAT64, 6to4, Teredo) are refused whole,
 * rather than decoded.
 */
export const NON_PUBLIC_RANGES: readonly string[] = [
  "0.0.0.0/8", // "this network"; 0.0.0.0 reaches the local host
  "10.0.0.0/8", // private
  "100.64.0.0/10", // carrier-grade NAT
  "127.0.0.0/8", // loopback
  "169.254.0.0/16", // link-local (cloud metadata at 169.254.169.254)
  "172.16.0.0/12", // private
  "192.0.0.0/24", // IETF protocol assignments
  "192.0.2.0/24", // documentation
  "192.88.99.0/24", // 6to4 relay anycast
  "192.168.0.0/16", // private
  "198.18.0.0/15", // benchmarking
  "198.51.100.0/24", // documentation
  "203.0.113.0/24", // documentation
  "224.0.0.0/4", // multicast
  "240.0.0.0/4", // reserved, and 255.255.255.255
  "::/96", // unspecified, loopback (::1) and IPv4-compatible
  "64:ff9b::/96", // NAT64
  "64:ff9b:1::/48", // local-use NAT64
  "100::/64", // discard
  "2001::/23", // IETF protocol assignments (Teredo 2001::/32 among them)
  "2001:db8::/32", // documentation
  "2002::/16", // 6to4
  "fc00::/7", // unique local
  "fe80::/10", // link-local
  "fec0::/10", // site-local (deprecated)
  "ff00::/8", // multicast
];

const RANGES: readonly AddressRange[] = NON_PUBLIC_RANGES.map((text) => {
  const range = parseAddressRange(text);
  if (range === null) throw new Error(`bad range ${text}`);
  return range;
});

/** Whether `address` (an IPv4 or IPv6 literal) is a public unicast address; false for anything that is not an address. */
export function isPublicAddress(address: string): boolean {
  const bytes = parseIpAddress(address);
  if (bytes === null) return false;
  return !RANGES.some((range) => inAddressRange(bytes, range));
}

/** What the fetcher asks before each connection; production's is publicOnly, tests inject their own. */
export interface PreviewGuard {
  /** The addresses of a host name (never called for an IP literal). */
  resolve(host: string, signal: AbortSignal): Promise<string[]>;
  /** Whether the fetcher may connect to `address` (an IP literal) on `port`. */
  allows(address: string, port: number): boolean;
}

/** Resolves A and AAAA records with Deno's resolver (not the system's cache or /etc/hosts). */
async function resolveDns(
  host: string,
  signal: AbortSignal,
): Promise<string[]> {
  const timeout = AbortSignal.any([
    signal,
    AbortSignal.timeout(DNS_TIMEOUT_MS),
  ]);
  const lookups = await Promise.allSettled([
    Deno.resolveDns(host, "A", { signal: timeout }),
    Deno.resolveDns(host, "AAAA", { signal: timeout }),
  ]);
  return lookups.flatMap((r) => r.status === "fulfilled" ? r.value : []);
}

/** The production guard: public addresses on PREVIEW_PORTS only. */
export const publicOnly: PreviewGuard = {
  resolve: resolveDns,
  allows: (address, port) =>
    PREVIEW_PORTS.includes(port) && isPublicAddress(address),
};

/** Why a URL may not be fetched. */
export class RefusedUrlError extends Error {
  override name = "RefusedUrlError";
}

/** Where to connect for `url`: its host (for Host and TLS), the checked address and port. */
export interface Destination {
  url: URL;
  address: string;
  port: number;
}

/**
 * Checks `url` and picks the address to connect to. Throws RefusedUrlError
 * for another scheme, credentials in the URL, a refused port, a name that
 * does not resolve, or any resolved address the guard refuses (one private
 * answer among public ones refuses the host: the fetcher must not pick).
 */
export async function destinationOf(
  url: URL,
  guard: PreviewGuard,
  signal: AbortSignal,
): Promise<Destination> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RefusedUrlError(`scheme ${url.protocol} is not http(s)`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new RefusedUrlError("credentials in the URL");
  }
  const port = url.port !== ""
    ? Number(url.port)
    : url.protocol === "https:"
    ? 443
    : 80;
  // URL has already turned 2130706433, 0x7f.1 and 0177.0.0.1 into
  // 127.0.0.1; IPv6 literals keep their brackets.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: string[];
  if (parseIpAddress(host) !== null) {
    addresses = [host];
  } else if (host === "localhost" || host.endsWith(".localhost")) {
    throw new RefusedUrlError(`${host} is this machine`);
  } else {
    addresses = await guard.resolve(host, signal);
  }
  if (addresses.length === 0) {
    throw new RefusedUrlError(`${host} has no address`);
  }
  const refused = addresses.find((a) => !guard.allows(a, port));
  if (refused !== undefined) {
    throw new RefusedUrlError(`${host} resolves to ${refused}:${port}`);
  }
  return { url, address: addresses[0], port };
}
