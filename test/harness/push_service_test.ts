// The test push service must hold Plaza to what real push services check,
// or the integration tests would prove nothing: it accepts exactly what
// web-push makes, decrypted, and refuses a bad signature.
import assert from "node:assert/strict";
// @deno-types="@types/web-push"
import webpush from "web-push";
import { createPushSender, type PushMessage } from "../../server/push/send.ts";
import { startTestPushService } from "./push_service.ts";

// The service is plain http on 127.0.0.1, as PUSH_ALLOW_INSECURE_ENDPOINTS allows.
const ENDPOINTS = { hosts: [], allowInsecure: true };

const MESSAGE: PushMessage = {
  payload: JSON.stringify({ title: "Plaza", body: "ada: héllo 😀" }),
  topic: "plaza",
  urgency: "high",
  ttlSeconds: 60,
};

Deno.test("the test push service decrypts what web-push sends and checks its VAPID header", async () => {
  const service = startTestPushService();
  try {
    const keys = webpush.generateVAPIDKeys();
    const sender = createPushSender({
      keys,
      subject: "mailto:test@example.com",
      timeoutMs: 5_000,
      endpoints: ENDPOINTS,
    });
    const sub = await service.subscribe();
    const outcome = await sender.send(
      { endpoint: sub.endpoint, ...sub.keys },
      MESSAGE,
    );
    assert.deepEqual(outcome, { kind: "sent", status: 201 });
    const [got] = service.receivedBy(sub.endpoint);
    assert.equal(got.text, MESSAGE.payload);
    assert.deepEqual(got.payload, JSON.parse(MESSAGE.payload));
    assert.equal(got.topic, "plaza");
    assert.equal(got.urgency, "high");
    assert.equal(got.ttl, "60");
    assert.equal(got.vapidKey, keys.publicKey);
    assert.equal(got.claims.aud, service.url);
    assert.equal(got.claims.sub, "mailto:test@example.com");
    assert.deepEqual(service.rejected, []);

    // A long payload spans the whole record and still decrypts.
    const long = {
      ...MESSAGE,
      payload: JSON.stringify({ x: "y".repeat(3000) }),
    };
    assert.equal(
      (await sender.send({ endpoint: sub.endpoint, ...sub.keys }, long)).kind,
      "sent",
    );
    assert.equal(service.receivedBy(sub.endpoint)[1].text, long.payload);
  } finally {
    await service.close();
  }
});

Deno.test("the test push service refuses a signature that k does not verify, and a body for other keys", async () => {
  const service = startTestPushService();
  try {
    const a = webpush.generateVAPIDKeys();
    const b = webpush.generateVAPIDKeys();
    const sub = await service.subscribe();
    const other = await service.subscribe();
    // Signed with a's private key but naming b's public key.
    const forged = createPushSender({
      keys: { publicKey: b.publicKey, privateKey: a.privateKey },
      subject: "mailto:test@example.com",
      timeoutMs: 5_000,
      endpoints: ENDPOINTS,
    });
    const outcome = await forged.send(
      { endpoint: sub.endpoint, ...sub.keys },
      MESSAGE,
    );
    assert.equal(outcome.kind, "failed");
    assert.equal(outcome.kind === "failed" && outcome.status, 403);
    // Encrypted for another subscription's keys: cannot be decrypted.
    const honest = createPushSender({
      keys: a,
      subject: "mailto:test@example.com",
      timeoutMs: 5_000,
      endpoints: ENDPOINTS,
    });
    const misdirected = await honest.send(
      { endpoint: sub.endpoint, ...other.keys },
      MESSAGE,
    );
    assert.equal(misdirected.kind, "failed");
    assert.equal(service.received.length, 0);
    assert.equal(service.rejected.length, 2);
    assert.match(service.rejected[0].reason, /signature/);
    assert.match(service.rejected[1].reason, /decrypt/);
  } finally {
    await service.close();
  }
});

Deno.test("scripted answers: 410 and 404 are gone, 500 and 429 are retried with Retry-After, 400 fails", async () => {
  const service = startTestPushService();
  try {
    const sender = createPushSender({
      keys: webpush.generateVAPIDKeys(),
      subject: "https://plaza.example",
      timeoutMs: 5_000,
      endpoints: ENDPOINTS,
    });
    const sub = await service.subscribe();
    const target = { endpoint: sub.endpoint, ...sub.keys };
    const expect = async (status: number, headers: Record<string, string>) => {
      service.answer(sub.endpoint, { status, headers, times: 1 });
      return await sender.send(target, MESSAGE);
    };
    assert.equal((await expect(410, {})).kind, "gone");
    assert.equal((await expect(404, {})).kind, "gone");
    const busy = await expect(429, { "Retry-After": "7" });
    assert.equal(busy.kind, "retry");
    assert.equal(busy.kind === "retry" && busy.retryAfterMs, 7_000);
    const broken = await expect(500, {});
    assert.equal(broken.kind === "retry" && broken.status, 500);
    assert.equal((await expect(400, {})).kind, "failed");
    // The script ran out: accepted again.
    assert.equal((await sender.send(target, MESSAGE)).kind, "sent");
    assert.equal(service.attempts(sub.endpoint), 6);
    assert.equal(service.received.length, 1);
  } finally {
    await service.close();
  }
});

Deno.test("a push service that does not answer in time is a retry, not a hang", async () => {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async () => {
      await held;
      return new Response(null, { status: 201 });
    },
  ) as Deno.HttpServer<Deno.NetAddr>;
  try {
    const service = startTestPushService();
    const sub = await service.subscribe();
    await service.close();
    const sender = createPushSender({
      keys: webpush.generateVAPIDKeys(),
      subject: "mailto:test@example.com",
      timeoutMs: 100,
      endpoints: ENDPOINTS,
    });
    const outcome = await sender.send({
      ...sub.keys,
      endpoint: `http://127.0.0.1:${server.addr.port}/push/slow`,
    }, MESSAGE);
    assert.equal(outcome.kind, "retry");
    assert.match(outcome.kind === "retry" ? outcome.reason : "", /100 ms/);
  } finally {
    release();
    await server.shutdown();
  }
});
