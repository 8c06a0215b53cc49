// The sender on its own, with fetch stubbed: what reaches the network and
// what never does.
import assert from "node:assert/strict";
// @deno-types="@types/web-push"
import webpush from "web-push";
import { DEFAULT_PUSH_SERVICE_HOSTS } from "../config.ts";
import type { EndpointPolicy } from "./endpoint.ts";
import { createPushSender, type PushTarget } from "./send.ts";

// A browser's keys: a P-256 point (65 bytes) and a 16-byte secret.
const P256DH =
  "BJFdv8MMVorCzkEPImokojPYMDpqr7bI0Mc5920Z15qdP2byt1PXah2pl5kthnoj5XoacTXg-UZfcv8DDazQ3ak";
const AUTH = "AAECAwQFBgcICQoLDA0ODw";
const MESSAGE = {
  payload: '{"body":"ada: hi"}',
  topic: "plaza",
  urgency: "normal" as const,
  ttlSeconds: 60,
};

function target(endpoint: string): PushTarget {
  return { endpoint, p256dh: P256DH, auth: AUTH };
}

/** A sender whose fetch records the URLs it was asked for and answers 201. */
function recordingSender(
  endpoints: EndpointPolicy = {
    hosts: DEFAULT_PUSH_SERVICE_HOSTS,
    allowInsecure: false,
  },
) {
  const fetched: string[] = [];
  const sender = createPushSender({
    keys: webpush.generateVAPIDKeys(),
    subject: "mailto:ops@chat.example",
    timeoutMs: 1_000,
    endpoints,
    fetch: (input) => {
      fetched.push(String(input));
      return Promise.resolve(new Response(null, { status: 201 }));
    },
  });
  return { sender, fetched };
}

Deno.test("the sender checks every endpoint against PUSH_SERVICE_HOSTS before sending, whatever the database holds", async () => {
  const { sender, fetched } = recordingSender();
  for (
    const endpoint of [
      "https://169.254.169.254/latest/meta-data/",
      "https://db.internal:5432/",
      "http://127.0.0.1:9/push/x",
      "http://fcm.googleapis.com/fcm/send/x",
      "https://user:pw@fcm.googleapis.com/fcm/send/x",
      // An allowed host, but not its push service's port.
      "https://fcm.googleapis.com:22/x",
      "https://evil.push.apple.com:8443/x",
      "not a url",
    ]
  ) {
    const outcome = await sender.send(target(endpoint), MESSAGE);
    assert.equal(outcome.kind, "failed", endpoint);
    assert.equal(outcome.kind === "failed" && outcome.status, 0, endpoint);
    assert.match(
      outcome.kind === "failed" ? outcome.reason : "",
      /^not sent: /,
      endpoint,
    );
  }
  assert.deepEqual(fetched, []);
  const ok = await sender.send(
    target("https://fcm.googleapis.com/fcm/send/abc"),
    MESSAGE,
  );
  assert.deepEqual(ok, { kind: "sent", status: 201 });
  assert.deepEqual(fetched, ["https://fcm.googleapis.com/fcm/send/abc"]);
});

Deno.test("PUSH_ALLOW_INSECURE_ENDPOINTS lets the sender reach plain http on this machine only", async () => {
  const { sender, fetched } = recordingSender({
    hosts: DEFAULT_PUSH_SERVICE_HOSTS,
    allowInsecure: true,
  });
  assert.equal(
    (await sender.send(target("http://127.0.0.1:9/push/x"), MESSAGE)).kind,
    "sent",
  );
  assert.equal(
    (await sender.send(target("http://10.0.0.1/push/x"), MESSAGE)).kind,
    "failed",
  );
  assert.deepEqual(fetched, ["http://127.0.0.1:9/push/x"]);
});

Deno.test("a send that starts after shutdown began does not go out: it is handed back as a retry at once", async () => {
  const { sender, fetched } = recordingSender();
  const stopping = new AbortController();
  stopping.abort();
  const started = Date.now();
  const outcome = await sender.send(
    target("https://fcm.googleapis.com/fcm/send/abc"),
    MESSAGE,
    stopping.signal,
  );
  assert.deepEqual(outcome, {
    kind: "retry",
    status: null,
    retryAfterMs: null,
    reason: "stopped",
  });
  assert.deepEqual(fetched, []);
  assert.ok(Date.now() - started < 500);
});
