import assert from "node:assert/strict";
import {
  countMessages,
  expectError,
  type NameApp,
  withNameApp,
} from "../../test/harness/name_app.ts";
import { URL_SHORTENERS } from "../../protocol/rules.ts";

const ADMIN = "rules-admin-token-0123456789";

function withRulesApp(fn: (t: NameApp) => Promise<void>) {
  return withNameApp(fn, { adminToken: ADMIN });
}

async function addRule(t: NameApp, body: unknown) {
  const res = await t.send("POST", "/moderation/rules", body, ADMIN);
  const rule = await res.json();
  assert.equal(res.status, 201, JSON.stringify(rule));
  return rule as { id: number; pattern: string };
}

async function postAs(
  t: NameApp,
  author: string,
  text: string,
  token?: string,
  clientId?: string,
) {
  const res = await t.send(
    "POST",
    "/messages",
    { author, text, clientId },
    token,
  );
  return { status: res.status, body: await res.json() };
}

Deno.test("rule routes: 404 without ADMIN_TOKEN, 401 without a token, 403 with a wrong one", async () => {
  await withNameApp(async (t) => {
    await expectError(
      await t.send("GET", "/moderation/rules"),
      404,
      /needs ADMIN_TOKEN/,
    );
  });
  await withRulesApp(async (t) => {
    const cases: [string, string, unknown][] = [
      ["GET", "/moderation/rules", undefined],
      ["POST", "/moderation/rules", { word: "x", action: "refuse" }],
      ["POST", "/moderation/rules/shorteners", { action: "hold" }],
      ["DELETE", "/moderation/rules/1", undefined],
      ["GET", "/moderation/held", undefined],
      ["POST", "/moderation/held/1/approve", undefined],
      ["POST", "/moderation/held/1/reject", undefined],
    ];
    for (const [method, path, body] of cases) {
      await expectError(await t.send(method, path, body), 401, /admin token/);
      await expectError(
        await t.send(method, path, body, "wrong-token-0123456789"),
        403,
        /not valid/,
      );
    }
    const list = await t.send("GET", "/moderation/rules", undefined, ADMIN);
    assert.deepEqual(await list.json(), { rules: [] }, "nothing changed");
  });
});

Deno.test("rule routes: bad input is a 400 and adds nothing; unknown ids are 404", async () => {
  await withRulesApp(async (t) => {
    for (
      const body of [
        {},
        { word: "spam" },
        { word: "spam", action: "ban" },
        { word: "spam", domain: "x.y", action: "refuse" },
        { word: "...", action: "refuse" },
        { domain: "no spaces.com", action: "refuse" },
        { word: "spam", action: "mute", minutes: -1 },
        { word: "spam", action: "refuse", bogus: true },
      ]
    ) {
      const res = await t.send("POST", "/moderation/rules", body, ADMIN);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(typeof (await res.json()).error, "string");
    }
    await expectError(
      await t.send("POST", "/moderation/rules/shorteners", {
        action: "nope",
      }, ADMIN),
      400,
      /action/,
    );
    await expectError(
      await t.send("DELETE", "/moderation/rules/abc", undefined, ADMIN),
      400,
      /rule id/,
    );
    await expectError(
      await t.send("DELETE", "/moderation/rules/99", undefined, ADMIN),
      404,
      /no rule 99/,
    );
    await expectError(
      await t.send("POST", "/moderation/held/99/approve", undefined, ADMIN),
      404,
      /no held message 99/,
    );
    await expectError(
      await t.send("POST", "/moderation/held/99/reject", undefined, ADMIN),
      404,
      /no held message 99/,
    );
    const list = await t.send("GET", "/moderation/rules", undefined, ADMIN);
    assert.deepEqual(await list.json(), { rules: [] });
  });
});

Deno.test("a refuse rule answers 422 with its reason and stores nothing; removing it lets the post through", async () => {
  await withRulesApp(async (t) => {
    const rule = await addRule(t, {
      word: "Buy Now",
      action: "refuse",
      reason: "no adverts here",
    });
    assert.equal(rule.pattern, "buy now");
    // The same pattern again changes that rule (200), not a second one.
    const again = await t.send("POST", "/moderation/rules", {
      word: "BUY  now",
      action: "refuse",
      reason: "no adverts, please",
    }, ADMIN);
    assert.equal(again.status, 200);
    assert.equal((await again.json()).id, rule.id);

    const refused = await postAs(t, "ann", "please ＢＵＹ — now!");
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.match(refused.body.error, /not posted: no adverts, please/);
    assert.equal(await countMessages(t.db), 0);
    // Words that merely contain it pass.
    assert.equal((await postAs(t, "ann", "rebuy nowhere")).status, 201);

    const domain = await addRule(t, {
      domain: "evil.example",
      action: "refuse",
    });
    const linked = await postAs(t, "ann", "see https://www.evil.example/x");
    assert.equal(linked.status, 422);
    assert.match(linked.body.error, /links to a site/);

    for (const id of [rule.id, domain.id]) {
      const gone = await t.send(
        "DELETE",
        `/moderation/rules/${id}`,
        undefined,
        ADMIN,
      );
      assert.equal(gone.status, 204);
    }
    assert.equal((await postAs(t, "ann", "buy now")).status, 201);
    assert.equal(await countMessages(t.db), 2);
  });
});

Deno.test("a mute rule refuses the post and every post of that name for its minutes, and only that name", async () => {
  await withRulesApp(async (t) => {
    await addRule(t, {
      word: "scam",
      action: "mute",
      minutes: 10,
      reason: "scams",
    });
    const token = await t.claim("Mallory");
    const first = await postAs(t, "mallory", "a SCAM for you", token);
    assert.equal(first.status, 403, JSON.stringify(first.body));
    assert.match(
      first.body.error,
      /"Mallory" may not post until .*Reason: scams/,
    );
    const clean = await postAs(t, "Mallory", "only kind words now", token);
    assert.equal(clean.status, 403);
    assert.match(clean.body.error, /may not post until/);
    assert.equal((await postAs(t, "bob", "hello")).status, 201);
    assert.equal(await countMessages(t.db), 1);
  });
});

Deno.test("a hold rule stores the post for its author alone until approved; rejecting drops it", async () => {
  await withRulesApp(async (t) => {
    await addRule(t, { word: "crypto", action: "hold" });
    const token = await t.claim("ann");
    const clientId = "3f0c9a2e-8d1b-4c3a-9e5f-7a6b5c4d3e2f";
    const held = await postAs(t, "ann", "crypto tips", token, clientId);
    assert.equal(held.status, 202, JSON.stringify(held.body));
    assert.equal(held.body.held, true);
    assert.equal(held.body.author, "ann");
    // A retry of the same send answers the same held message.
    const retry = await postAs(t, "ann", "crypto tips", token, clientId);
    assert.equal(retry.status, 200);
    assert.equal(retry.body.id, held.body.id);
    // Not in history, search or a single fetch.
    assert.equal(await countMessages(t.db), 0);
    const history = await (await t.send("GET", "/messages")).json();
    assert.deepEqual(history.messages, []);
    const found = await (await t.send("GET", "/messages?q=crypto")).json();
    assert.deepEqual(found.messages, []);
    assert.equal(
      (await t.send("GET", `/messages/${held.body.id}`)).status,
      404,
    );

    const listed = await (await t.send(
      "GET",
      "/moderation/held",
      undefined,
      ADMIN,
    )).json();
    assert.equal(listed.held.length, 1);
    assert.equal(listed.held[0].message.id, held.body.id);
    assert.equal(listed.held[0].matched, "crypto");

    const approved = await t.send(
      "POST",
      `/moderation/held/${held.body.id}/approve`,
      undefined,
      ADMIN,
    );
    const message = await approved.json();
    assert.equal(approved.status, 200, JSON.stringify(message));
    assert.ok(message.id > held.body.id, "a new message, numbered now");
    assert.equal(message.held, undefined);
    assert.equal(message.verified, true);
    assert.equal(message.clientId, clientId);
    const after = await (await t.send("GET", "/messages")).json();
    assert.deepEqual(after.messages.map((m: { id: number }) => m.id), [
      message.id,
    ]);
    // Approved once only.
    assert.equal(
      (await t.send(
        "POST",
        `/moderation/held/${held.body.id}/approve`,
        undefined,
        ADMIN,
      )).status,
      404,
    );

    const other = await postAs(t, "bob", "more crypto");
    assert.equal(other.status, 202);
    const rejected = await t.send(
      "POST",
      `/moderation/held/${other.body.id}/reject`,
      undefined,
      ADMIN,
    );
    assert.equal(rejected.status, 204);
    const none = await (await t.send(
      "GET",
      "/moderation/held",
      undefined,
      ADMIN,
    )).json();
    assert.deepEqual(none.held, []);
    assert.equal(await countMessages(t.db), 1);
  });
});

Deno.test("the shortener list is enabled in one request and holds links through them", async () => {
  await withRulesApp(async (t) => {
    const res = await t.send(
      "POST",
      "/moderation/rules/shorteners",
      { action: "hold" },
      ADMIN,
    );
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(
      body.rules.map((r: { pattern: string }) => r.pattern),
      URL_SHORTENERS,
    );
    // Twice is the same list, not twice as many rules.
    await t.send(
      "POST",
      "/moderation/rules/shorteners",
      { action: "hold" },
      ADMIN,
    );
    const list = await (await t.send(
      "GET",
      "/moderation/rules",
      undefined,
      ADMIN,
    )).json();
    assert.equal(list.rules.length, URL_SHORTENERS.length);
    const held = await postAs(t, "ann", "look https://bit.ly/3xyz");
    assert.equal(held.status, 202);
    assert.equal(
      (await postAs(t, "ann", "look https://example.com")).status,
      201,
    );
  });
});

Deno.test("newcomer delay: a new address or name may post text but not links", async () => {
  await withNameApp(async (t) => {
    const refused = await postAs(t, "ann", "see https://example.com");
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.error, /Your address is new here.*not links/);
    assert.equal((await postAs(t, "ann", "just text")).status, 201);
    // Seen long ago: the address may link, but a name claimed just now
    // may not.
    await t.db.query(
      "update address_first_seen set first_seen = now() - interval '1 hour'",
    );
    const token = await t.claim("newbie");
    const named = await postAs(t, "newbie", "https://example.com", token);
    assert.equal(named.status, 403);
    assert.match(named.body.error, /This name is new here/);
    assert.equal((await postAs(t, "ann", "https://example.com")).status, 201);
    await t.db.query(
      "update names set claimed_at = now() - interval '1 hour'",
    );
    assert.equal(
      (await postAs(t, "newbie", "https://example.com", token)).status,
      201,
    );
    assert.equal(await countMessages(t.db), 3);
  }, { newcomerDelayMinutes: 10 });
});

Deno.test("newcomer delay off (the default): links from anyone", async () => {
  await withNameApp(async (t) => {
    assert.equal(
      (await postAs(t, "ann", "see https://example.com")).status,
      201,
    );
  });
});

Deno.test("a stream under the claim going live is shown that claim's newest held messages, at most 50", async () => {
  await withRulesApp(async (t) => {
    await addRule(t, { word: "held", action: "hold" });
    const token = await t.claim("ann");
    const ids: number[] = [];
    for (let i = 0; i < 51; i++) {
      const res = await postAs(t, "ann", `held ${i}`, token);
      assert.equal(res.status, 202);
      ids.push(res.body.id);
    }
    // Others see none of them.
    const other = await t.send("GET", "/stream?history=0");
    const otherReader = other.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    let otherText = "";
    while (!otherText.includes("event: presence")) {
      otherText += (await otherReader.read()).value ?? "";
    }
    await otherReader.cancel();
    assert.ok(!otherText.includes('"held":true'));

    const res = await t.send(
      "GET",
      "/stream?name=ann&history=0",
      undefined,
      token,
    );
    assert.equal(res.status, 200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    try {
      while ((text.match(/"held":true/g) ?? []).length < 50) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    } finally {
      await reader.cancel();
    }
    const shown = [...text.matchAll(/^data: (\{.*"held":true.*\})$/gm)].map((
      m,
    ) => JSON.parse(m[1]).id);
    assert.deepEqual(shown, ids.slice(1));
    assert.ok(!/^id: /m.test(text.split("event: presence")[1]), "no ids");
  });
});
