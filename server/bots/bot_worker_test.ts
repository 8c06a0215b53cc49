// Mentions of bots reach their webhooks: signed, through the SSRF guard
// unless the bot may be local, retried after a 5xx, once across instances,
// and the webhook's answer is posted as the bot's message.
import assert from "node:assert/strict";
import {
  startTestInstance,
  withTestDatabase,
} from "../../test/harness/fixtures.ts";
import { until } from "../../test/harness/wait.ts";
import type { Plaza } from "../plaza.ts";
import type { Message } from "../../protocol/message.ts";
import { isPublicAddress, type PreviewGuard } from "../previews/ssrf_guard.ts";
import type { BotDeliveryOutcome } from "./bot_worker.ts";
import { answerOf, replyClientId } from "./bot_worker.ts";
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from "./webhook.ts";

const ADMIN_TOKEN = "test-admin-token-0123456789";
const encoder = new TextEncoder();

/** A POST the test webhook received. */
interface Hit {
  path: string;
  delivery: string;
  timestamp: number;
  signature: string;
  body: string;
  payload: {
    type: string;
    bot: string;
    deliveryId: number;
    message: Message;
  };
}

/** HMAC-SHA256 in hex with WebCrypto: not the code under test. */
async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, encoder.encode(text)),
  );
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Runs `fn` with a webhook on 127.0.0.1 that answers each hit with `answer`. */
async function withHook(
  answer: (hit: Hit, count: number) => Response,
  fn: (base: string, hits: Hit[]) => Promise<void>,
) {
  const hits: Hit[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const body = await request.text();
      const hit: Hit = {
        path: new URL(request.url).pathname,
        delivery: request.headers.get(DELIVERY_HEADER) ?? "",
        timestamp: Number(request.headers.get(TIMESTAMP_HEADER)),
        signature: request.headers.get(SIGNATURE_HEADER) ?? "",
        body,
        payload: JSON.parse(body),
      };
      hits.push(hit);
      return answer(hit, hits.length);
    },
  ) as Deno.HttpServer<Deno.NetAddr>;
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, hits);
  } finally {
    await server.shutdown();
  }
}

async function call(
  url: string,
  method: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function register(
  plaza: Plaza,
  body: Record<string, unknown>,
): Promise<{ token: string; secret: string }> {
  const res = await call(`${plaza.url}/moderation/bots`, "POST", body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { token: String(res.body.token), secret: String(res.body.secret) };
}

async function post(plaza: Plaza, author: string, text: string) {
  const res = await call(
    `${plaza.url}/messages`,
    "POST",
    { author, text },
    null,
  );
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as unknown as Message;
}

async function roomMessages(plaza: Plaza): Promise<Message[]> {
  const res = await call(`${plaza.url}/messages?limit=200`, "GET");
  return res.body.messages as Message[];
}

const json = (value: unknown) => Response.json(value);

/** Runs `fn` with `count` instances on one fresh database, each telling `outcomes` what its webhook POSTs did. */
async function withInstances(
  count: number,
  options: { guard?: PreviewGuard },
  fn: (plazas: Plaza[], outcomes: BotDeliveryOutcome[]) => Promise<void>,
) {
  const outcomes: BotDeliveryOutcome[] = [];
  await withTestDatabase(async (url) => {
    const plazas: Plaza[] = [];
    try {
      for (let i = 0; i < count; i++) {
        plazas.push(
          await startTestInstance(url, { ADMIN_TOKEN }, {
            previewGuard: options.guard,
            bots: {
              retryMs: 20,
              timeoutMs: 2_000,
              onOutcome: (o) => outcomes.push(o),
            },
          }),
        );
      }
      await fn(plazas, outcomes);
    } finally {
      await Promise.all(plazas.map((p) => p.close()));
    }
  });
}

Deno.test("a mention reaches a local webhook signed with the bot's secret, and its answer is posted as the bot's reply", async () => {
  await withHook(
    (hit) =>
      json({
        text: `echo: ${hit.payload.message.text}`,
        replyTo: hit.payload.message.id,
      }),
    async (hook, hits) => {
      await withInstances(1, {}, async ([plaza], outcomes) => {
        const { secret } = await register(plaza, {
          name: "Echo",
          webhook: `${hook}/hook?x=1`,
          allowLocal: true,
        });
        // Not mentions: inside a longer name, and without "@".
        await post(plaza, "ann", "hello @echoes and echo");
        const mention = await post(plaza, "ann", "hi @ECHO!");
        await until(() => outcomes.length === 1);
        assert.equal(outcomes[0].result, "delivered");
        assert.equal(hits.length, 1);
        const [hit] = hits;
        assert.equal(hit.path, "/hook");
        assert.equal(hit.payload.type, "mention");
        assert.equal(hit.payload.bot, "Echo");
        assert.equal(hit.payload.message.id, mention.id);
        assert.equal(hit.payload.message.text, "hi @ECHO!");
        assert.equal(hit.delivery, String(hit.payload.deliveryId));
        assert.ok(Math.abs(hit.timestamp - Date.now() / 1000) < 60);
        assert.equal(
          hit.signature,
          `sha256=${await hmacHex(secret, `${hit.timestamp}.${hit.body}`)}`,
        );

        // The answer, as the bot, replying to the mention, through the
        // message store (so in the room for everyone).
        const replyId = outcomes[0].replyId;
        assert.ok(replyId !== null);
        const reply = (await roomMessages(plaza)).find((m) => m.id === replyId);
        assert.equal(reply?.author, "Echo");
        assert.equal(reply?.bot, true);
        assert.equal(reply?.verified, true);
        assert.equal(reply?.text, "echo: hi @ECHO!");
        assert.equal(reply?.replyTo?.id, mention.id);

        // The bot's own answer mentions it, and is not delivered: the next
        // mention is the second hit.
        await post(plaza, "bob", "@echo again");
        await until(() => outcomes.length === 2);
        assert.equal(hits.length, 2);
        assert.equal(hits[1].payload.message.text, "@echo again");
      });
    },
  );
});

Deno.test("a webhook resolving to a private address is refused without allowLocal, and reached with it", async () => {
  // bot.test resolves to this machine, as a rebinding attacker would make it.
  const guard: PreviewGuard = {
    resolve: () => Promise.resolve(["127.0.0.1"]),
    allows: (address) => isPublicAddress(address),
  };
  await withHook(
    () => json({}),
    async (hook, hits) => {
      const port = new URL(hook).port;
      await withInstances(1, { guard }, async ([plaza], outcomes) => {
        await register(plaza, {
          name: "Far",
          webhook: `http://bot.test:${port}/far`,
        });
        await register(plaza, {
          name: "Near",
          webhook: `http://127.0.0.1:${port}/near`,
          allowLocal: true,
        });
        await post(plaza, "ann", "@far and @near, hello");
        await until(() => outcomes.length === 2);
        const by = Object.fromEntries(outcomes.map((o) => [o.bot, o.result]));
        assert.deepEqual(by, { Far: "refused", Near: "delivered" });
        assert.deepEqual(hits.map((h) => h.path), ["/near"]);
        // Refused for good: not retried.
        await post(plaza, "ann", "@near once more");
        await until(() => outcomes.length === 3);
        assert.deepEqual(hits.map((h) => h.path), ["/near", "/near"]);
      });
    },
  );
});

Deno.test("a webhook answering 500 is tried again with the same body, and its later answer is posted", async () => {
  await withHook(
    (_hit, count) =>
      count === 1
        ? new Response("busy", { status: 500 })
        : json({ text: "second time lucky" }),
    async (hook, hits) => {
      await withInstances(1, {}, async ([plaza], outcomes) => {
        await register(plaza, {
          name: "Flaky",
          webhook: `${hook}/flaky`,
          allowLocal: true,
        });
        const mention = await post(plaza, "ann", "@flaky are you there?");
        await until(() => outcomes.some((o) => o.result === "delivered"));
        assert.deepEqual(
          outcomes.map((o) => [o.result, o.status, o.attempts]),
          [["retry", 500, 1], ["delivered", 200, 2]],
        );
        assert.equal(hits.length, 2);
        assert.equal(hits[0].delivery, hits[1].delivery);
        assert.equal(hits[0].payload.message.id, mention.id);
        assert.deepEqual(hits[0].payload, hits[1].payload);
        const room = await roomMessages(plaza);
        assert.deepEqual(
          room.filter((m) => m.bot).map((m) => [m.author, m.text, m.replyTo]),
          [["Flaky", "second time lucky", null]],
        );
      });
    },
  );
});

Deno.test("with two instances each mention is POSTed exactly once and answered once", async () => {
  // Waves: each wakes both instances at once, so both race for the same
  // deliveries every time.
  const WAVES = 4;
  const PER_WAVE = 8;
  await withHook(
    (hit) => json({ text: `seen ${hit.payload.message.id}` }),
    async (hook, hits) => {
      await withInstances(2, {}, async ([a, b], outcomes) => {
        await register(a, {
          name: "Count",
          webhook: `${hook}/count`,
          allowLocal: true,
        });
        const posted: Message[] = [];
        for (let wave = 0; wave < WAVES; wave++) {
          posted.push(
            ...await Promise.all(
              Array.from(
                { length: PER_WAVE },
                (_, i) => post(i % 2 === 0 ? a : b, `user${i}`, `@count ${i}`),
              ),
            ),
          );
          await until(() => outcomes.length >= posted.length);
        }
        // One more, after all the others were delivered: a duplicate of
        // any of them would have to come before its delivery is finished.
        const last = await post(b, "zed", "@count last");
        await until(() => outcomes.some((o) => o.messageId === last.id));
        const ids = hits.map((h) => h.payload.message.id).sort((x, y) => x - y);
        assert.deepEqual(
          ids,
          [...posted.map((m) => m.id), last.id].sort((x, y) => x - y),
        );
        assert.equal(outcomes.length, posted.length + 1);
        assert.ok(outcomes.every((o) => o.result === "delivered"));
        const answers = (await roomMessages(a)).filter((m) => m.bot);
        assert.equal(answers.length, posted.length + 1);
        assert.equal(new Set(answers.map((m) => m.text)).size, answers.length);
      });
    },
  );
});

Deno.test("a banned bot is not told of mentions and posts no answer", async () => {
  await withHook(
    () => json({ text: "should not appear" }),
    async (hook, hits) => {
      await withInstances(1, {}, async ([plaza], outcomes) => {
        await register(plaza, {
          name: "Rude",
          webhook: `${hook}/rude`,
          allowLocal: true,
        });
        const ban = await call(`${plaza.url}/moderation/bans`, "POST", {
          name: "rude",
        });
        assert.equal(ban.status, 201);
        await post(plaza, "ann", "@rude hello?");
        await until(() => outcomes.length === 1);
        assert.equal(outcomes[0].result, "banned");
        assert.equal(hits.length, 0);
        assert.deepEqual((await roomMessages(plaza)).filter((m) => m.bot), []);
      });
    },
  );
});

Deno.test("signatures, answers and reply ids", async () => {
  const body = '{"type":"mention"}';
  assert.equal(
    signWebhook("s3cret", 1_700_000_000, body),
    `sha256=${await hmacHex("s3cret", `1700000000.${body}`)}`,
  );
  const answer = (status: number, contentType: string, text: string) =>
    answerOf({ status, contentType, body: text });
  assert.deepEqual(answer(200, "application/json", '{"text":"hi"}'), {
    text: "hi",
    replyTo: null,
  });
  assert.deepEqual(
    answer(200, "application/json; charset=utf-8", '{"text":"x","replyTo":7}'),
    { text: "x", replyTo: 7 },
  );
  assert.equal(answer(200, "text/plain", '{"text":"hi"}'), null);
  assert.equal(answer(201, "application/json", '{"text":"hi"}'), null);
  assert.equal(answer(200, "application/json", '{"text":"  "}'), null);
  assert.equal(answer(200, "application/json", "not json"), null);
  assert.equal(answer(200, "application/json", "null"), null);
  const id = replyClientId(3, 42);
  assert.match(
    id,
    /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.equal(replyClientId(3, 42), id);
  assert.notEqual(replyClientId(3, 43), id);
});
