/**
 * Which push endpoints Plaza may send to. An endpoint is a URL a browser
 * hands over, so without a check anyone could make the server POST to a host
 * of their choosing, internal ones included (server-side request forgery).
 * Only hosts of known push services pass (PUSH_SERVICE_HOSTS), on the default
 * https port only (a push service listens on 443; another port on an allowed
 * host would let a sender probe that host's other services). Checked when a
 * subscription is stored and again right before every send, so a row stored
 * under an older setting cannot get past it.
 */

import { parseHostPattern } from "../config.ts";

/** What an endpoint is checked against. */
export interface EndpointPolicy {
  /** Host names, exact (`fcm.googleapis.com`) or `*.` and a domain for any name below it. */
  hosts: readonly string[];
  /** Also plain http to this machine (127.0.0.1, localhost, [::1]): the test push service. */
  allowInsecure: boolean;
}

/** Whether `hostname` (as URL.hostname gives it) matches one of `patterns`. */
export function hostAllowed(
  hostname: string,
  patterns: readonly string[],
): boolean {
  const host = hostname.toLowerCase();
  // Plain DNS labels only: no empty label (".push.apple.com"), no trailing
  // dot, no IPv6 literal, no wildcard.
  if (parseHostPattern(host) !== host || host.startsWith("*")) return false;
  return patterns.some((p) =>
    p.startsWith("*.") ? host.endsWith(p.slice(1)) : host === p
  );
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Why Plaza must not send to `endpoint`, or null when it may: an https URL
 * without credentials on an allowed host and the default port, or (only with
 * `allowInsecure`) plain http to this machine on any port.
 */
export function endpointRefusal(
  endpoint: string,
  policy: EndpointPolicy,
): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'Field "endpoint" must be a URL.';
  }
  if (url.username !== "" || url.password !== "") {
    return 'Field "endpoint" must not contain a user name or password.';
  }
  if (
    policy.allowInsecure && url.protocol === "http:" &&
    LOOPBACK.has(url.hostname)
  ) {
    return null;
  }
  if (url.protocol !== "https:") {
    return 'Field "endpoint" must be an https:// URL from a push service.';
  }
  if (!hostAllowed(url.hostname, policy.hosts)) {
    return `Field "endpoint" must be on a known push service; ${url.hostname} is not one this server sends to (PUSH_SERVICE_HOSTS).`;
  }
  // URL parsing drops the default port, so an explicit ":443" reads as "".
  if (url.port !== "") {
    return `Field "endpoint" must use the default https port; push services do not listen on port ${url.port}.`;
  }
  return null;
}
