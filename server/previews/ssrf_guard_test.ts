import assert from "node:assert/strict";
import {
  destinationOf,
  isPublicAddress,
  type PreviewGuard,
  publicOnly,
  RefusedUrlError,
} from "./ssrf_guard.ts";

// deno-fmt-ignore
const NOT_PUBLIC = [
  "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1",
  "100.127.255.254", "127.0.0.1", "127.255.0.1", "169.254.169.254",
  "172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.88.99.1",
  "192.168.1.1", "198.18.0.1", "198.19.255.255", "198.51.100.7",
  "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1",
  "255.255.255.255", "::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
  "::ffff:7f00:1", "::127.0.0.1", "64:ff9b::a00:1", "64:ff9b:1::1", "100::1",
  "2001::1", "2001:db8::1", "2002:7f00:1::1", "fc00::1", "fd12:3456::1",
  "fe80::1", "fe80::1%eth0", "fec0::1", "ff02::1", "not an address", "",
];
// deno-fmt-ignore
const PUBLIC = [
  "1.1.1.1", "8.8.8.8", "93.184.215.14", "100.63.255.255", "100.128.0.1",
  "172.15.255.255", "172.32.0.1", "192.0.1.1", "198.17.255.255",
  "223.255.255.255", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
  "::ffff:8.8.8.8",
];

Deno.test("isPublicAddress refuses every private, loopback, link-local, CGNAT, multicast, reserved and IPv4-in-IPv6 form", () => {
  for (const a of NOT_PUBLIC) assert.equal(isPublicAddress(a), false, a);
  for (const a of PUBLIC) assert.equal(isPublicAddress(a), true, a);
});

/** The production rules with a resolver that answers from `names` and counts its calls (no real DNS in tests). */
function fakeDns(names: Record<string, string[]>) {
  const asked: string[] = [];
  const guard: PreviewGuard = {
    resolve: (host) => {
      asked.push(host);
      return Promise.resolve(names[host] ?? []);
    },
    allows: publicOnly.allows,
  };
  return { guard, asked };
}

async function refused(link: string, guard: PreviewGuard): Promise<void> {
  await assert.rejects(
    destinationOf(new URL(link), guard, new AbortController().signal),
    RefusedUrlError,
    link,
  );
}

Deno.test("destinationOf refuses private literals in every spelling URL accepts, other schemes, credentials and ports", async () => {
  const { guard, asked } = fakeDns({});
  for (
    const link of [
      "http://127.0.0.1/",
      "http://2130706433/", // 127.0.0.1 as one number
      "http://0177.0.0.1/", // octal
      "http://0x7f.1/", // hex, short form
      "http://127.1/",
      "http://0.0.0.0/",
      "http://0/",
      "http://[::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://[::ffff:7f00:1]/",
      "http://169.254.169.254/latest/meta-data/",
      "http://10.0.0.1/",
      "http://100.64.0.1/",
      "http://[fe80::1]/",
      "http://[fd00::1]/",
      "http://localhost/",
      "http://app.localhost/",
      "ftp://93.184.215.14/",
      "file:///etc/passwd",
      "http://user:pass@93.184.215.14/",
      "http://93.184.215.14:8080/", // a public host, but not a web port
      "https://93.184.215.14:22/",
    ]
  ) {
    await refused(link, guard);
  }
  // None of them needed a DNS lookup.
  assert.deepEqual(asked, []);
});

Deno.test("destinationOf resolves names itself and refuses a name with any private answer", async () => {
  const { guard, asked } = fakeDns({
    "public.test": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "rebind.test": ["93.184.215.14", "127.0.0.1"],
    "inside.test": ["10.1.2.3"],
    "mapped.test": ["::ffff:192.168.0.1"],
  });
  const ok = await destinationOf(
    new URL("https://public.test/page"),
    guard,
    new AbortController().signal,
  );
  assert.equal(ok.address, "93.184.215.14");
  assert.equal(ok.port, 443);
  const literal = await destinationOf(
    new URL("http://93.184.215.14/"),
    guard,
    new AbortController().signal,
  );
  assert.equal(literal.port, 80);
  await refused("http://rebind.test/", guard);
  await refused("http://inside.test/", guard);
  await refused("http://mapped.test/", guard);
  await refused("http://nowhere.test/", guard);
  assert.deepEqual(asked, [
    "public.test",
    "rebind.test",
    "inside.test",
    "mapped.test",
    "nowhere.test",
  ]);
});
