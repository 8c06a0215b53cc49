/**
 * IP addresses and ranges as TRUST_PROXY names them (and anything else that
 * matches a client address against a list). Part of the configuration: it
 * imports nothing of Plaza's.
 */

/**
 * Named address sets TRUST_PROXY accepts, as Express's `trust proxy` names
 * them: loopback, link-local and private (unique local) networks.
 */
export const NAMED_ADDRESS_RANGES: Readonly<Record<string, readonly string[]>> =
  {
    loopback: ["127.0.0.0/8", "::1/128"],
    linklocal: ["169.254.0.0/16", "fe80::/10"],
    uniquelocal: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
  };

/** Most proxy hops TRUST_PROXY may name by count. */
export const MAX_TRUSTED_HOPS = 10;

/** The first `bits` bits of `address`: 16 bytes, IPv4 held as IPv4-mapped IPv6. */
export interface AddressRange {
  address: Uint8Array;
  bits: number;
}

/**
 * Which peers are proxies whose X-Forwarded-For (and X-Forwarded-Host, -Proto)
 * Plaza believes (`TRUST_PROXY`). `none`: no one's. `hops`: every peer is a
 * proxy, and so are the `hops - 1` hops it names last in X-Forwarded-For, so
 * the client is the entry `hops` from the end. `ranges`: a hop is a proxy when
 * its address is in one of the ranges.
 */
export type ProxyTrust =
  | { kind: "none" }
  | { kind: "hops"; hops: number }
  | { kind: "ranges"; ranges: readonly AddressRange[] };

/** TRUST_PROXY unset: no peer is a proxy. */
export const TRUST_NO_PROXY: ProxyTrust = { kind: "none" };

// IPv4 addresses are kept as ::ffff:a.b.c.d, in one space with IPv6.
const IPV4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseIpv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null;
    bytes.push(Number(part));
  }
  return bytes;
}

function parseIpv6(text: string): number[] | null {
  let body = text;
  let v4: number[] = [];
  // An IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
  const lastColon = text.lastIndexOf(":");
  if (lastColon >= 0 && text.slice(lastColon + 1).includes(".")) {
    const tail = parseIpv4(text.slice(lastColon + 1));
    if (tail === null) return null;
    v4 = tail;
    // Keep a "::" that ends right before the tail.
    body = text.slice(
      0,
      text[lastColon - 1] === ":" ? lastColon + 1 : lastColon,
    );
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string) => half === "" ? [] : half.split(":");
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const wanted = v4.length > 0 ? 6 : 8;
  let all = left;
  if (halves.length === 2) {
    // "::" stands for at least one group of zeros.
    const missing = wanted - left.length - right.length;
    if (missing < 1) return null;
    all = [...left, ...Array<string>(missing).fill("0"), ...right];
  }
  if (all.length !== wanted) return null;
  const bytes: number[] = [];
  for (const group of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    const n = parseInt(group, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  return [...bytes, ...v4];
}

/**
 * An IPv4 or IPv6 address as 16 bytes (IPv4 as IPv4-mapped IPv6, so
 * `::ffff:127.0.0.1` and `127.0.0.1` are one address), or null when `text` is
 * not one. An IPv6 zone (`%eth0`) is ignored.
 */
export function parseIpAddress(text: string): Uint8Array | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return new Uint8Array([...IPV4_MAPPED_PREFIX, ...v4]);
  const v6 = parseIpv6(text.replace(/%[\w.-]+$/, ""));
  return v6 === null ? null : new Uint8Array(v6);
}

/** An address or CIDR range (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`), or null when `text` is not one. */
export function parseAddressRange(text: string): AddressRange | null {
  const [addressText, bitsText, ...rest] = text.trim().split("/");
  if (rest.length > 0 || addressText.includes("%")) return null;
  const address = parseIpAddress(addressText);
  if (address === null) return null;
  const v4 = parseIpv4(addressText) !== null;
  const max = v4 ? 32 : 128;
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return null;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (bits > max) return null;
  return { address, bits: v4 ? bits + 96 : bits };
}

/** Whether `address` (from parseIpAddress) lies in `range`. */
export function inAddressRange(
  address: Uint8Array,
  range: AddressRange,
): boolean {
  for (let bit = 0; bit < range.bits; bit += 8) {
    const i = bit / 8;
    const left = range.bits - bit;
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if ((address[i] & mask) !== (range.address[i] & mask)) return false;
  }
  return true;
}
