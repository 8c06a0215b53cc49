import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { isTrustedPeer, resolveClientAddress } from "./client_address.ts";

const trust = (value: string) => loadConfig({ TRUST_PROXY: value }).trustProxy;

Deno.test("a peer that is not a named proxy is the client, whatever X-Forwarded-For it sends", () => {
  const proxies = trust("10.0.0.5");
  // Sent straight to the instance: the claim is never read.
  assert.equal(
    resolveClientAddress("198.51.100.7", "203.0.113.1", proxies),
    "198.51.100.7",
  );
  assert.equal(
    resolveClientAddress("198.51.100.7", "10.0.0.5", proxies),
    "198.51.100.7",
  );
  // Unset TRUST_PROXY believes no one, the proxy's address included.
  assert.equal(
    resolveClientAddress("10.0.0.5", "203.0.113.1", trust("")),
    "10.0.0.5",
  );
  assert.equal(isTrustedPeer("10.0.0.5", trust("false")), false);
  assert.equal(
    resolveClientAddress(undefined, "203.0.113.1", proxies),
    "unknown",
  );
});

Deno.test("behind one proxy the client is the entry it appended; the client's own entries before it do not count", () => {
  const proxies = trust("10.0.0.5");
  assert.equal(
    resolveClientAddress("10.0.0.5", "198.51.100.7", proxies),
    "198.51.100.7",
  );
  // A spoofed header the proxy appended to.
  assert.equal(
    resolveClientAddress("10.0.0.5", "203.0.113.1, 198.51.100.7", proxies),
    "198.51.100.7",
  );
  // A spoof naming the proxy itself does not make the client a proxy hop.
  assert.equal(
    resolveClientAddress(
      "10.0.0.5",
      "203.0.113.1, 10.0.0.5, 198.51.100.7",
      proxies,
    ),
    "198.51.100.7",
  );
  // The proxy sent none: the peer is all there is.
  assert.equal(
    resolveClientAddress("10.0.0.5", undefined, proxies),
    "10.0.0.5",
  );
  assert.equal(resolveClientAddress("10.0.0.5", " ", proxies), "10.0.0.5");
  // Ports and brackets some proxies add.
  assert.equal(
    resolveClientAddress("10.0.0.5", "198.51.100.7:41234", proxies),
    "198.51.100.7",
  );
});

Deno.test("two proxies in a row: the client is the address the outer one saw, not the outer proxy", () => {
  // A CDN or outer balancer (192.0.2.0/24) in front of nginx (10.0.0.5).
  const proxies = trust("10.0.0.0/8, 192.0.2.0/24");
  assert.equal(
    resolveClientAddress("10.0.0.5", "198.51.100.7, 192.0.2.44", proxies),
    "198.51.100.7",
  );
  assert.equal(
    resolveClientAddress(
      "10.0.0.5",
      "203.0.113.1, 198.51.100.7, 192.0.2.44",
      proxies,
    ),
    "198.51.100.7",
  );
  // A second client through the same two proxies has an address of its own.
  assert.equal(
    resolveClientAddress("10.0.0.5", "198.51.100.8, 192.0.2.44", proxies),
    "198.51.100.8",
  );
  // Every hop a proxy: the left-most is the best there is.
  assert.equal(
    resolveClientAddress("10.0.0.5", "10.1.1.1, 192.0.2.44", proxies),
    "10.1.1.1",
  );
  // Only the inner proxy named: everyone would be the outer proxy.
  assert.equal(
    resolveClientAddress(
      "10.0.0.5",
      "198.51.100.7, 192.0.2.44",
      trust("10.0.0.5"),
    ),
    "192.0.2.44",
  );
});

Deno.test("IPv6 proxies and clients, and IPv4 peers seen as IPv4-mapped IPv6", () => {
  const proxies = trust("fd00::/8, ::1, 127.0.0.1");
  assert.equal(
    resolveClientAddress("fd00::5", "2001:db8::7", proxies),
    "2001:db8::7",
  );
  assert.equal(
    resolveClientAddress("::1", "2001:db8::9, [2001:db8::7]:443", proxies),
    "2001:db8::7",
  );
  assert.equal(
    resolveClientAddress("FD00:0:0::5", "198.51.100.7", proxies),
    "198.51.100.7",
  );
  // A dual-stack listener reports an IPv4 proxy as ::ffff:127.0.0.1.
  assert.equal(
    resolveClientAddress("::ffff:127.0.0.1", "2001:db8::7", proxies),
    "2001:db8::7",
  );
  assert.equal(
    resolveClientAddress("2001:db8::66", "2001:db8::7", proxies),
    "2001:db8::66",
  );
  // Not junk-as-proxy: an unparseable hop is where trust stops.
  assert.equal(
    resolveClientAddress("fd00::5", "2001:db8::7, unknown", proxies),
    "unknown",
  );
});

Deno.test("a hop count trusts any peer and that many hops from the end, like Express's trust proxy", () => {
  const one = trust("1");
  assert.deepEqual(one, trust("true"));
  assert.equal(
    resolveClientAddress("192.0.2.1", "203.0.113.1, 198.51.100.7", one),
    "198.51.100.7",
  );
  const two = trust("2");
  assert.equal(
    resolveClientAddress(
      "192.0.2.1",
      "203.0.113.1, 198.51.100.7, 10.0.0.9",
      two,
    ),
    "198.51.100.7",
  );
  // Fewer hops than counted: the left-most entry.
  assert.equal(
    resolveClientAddress("192.0.2.1", "198.51.100.7", two),
    "198.51.100.7",
  );
  assert.equal(resolveClientAddress("192.0.2.1", undefined, two), "192.0.2.1");
  // Which is why it is warned about: sent directly, the claim is believed.
  assert.equal(
    resolveClientAddress("198.51.100.7", "203.0.113.1", one),
    "203.0.113.1",
  );
});
