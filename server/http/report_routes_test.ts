// POST /reports and the moderators' report routes on one app: what is
// refused (and stores nothing), what a repeat answers, auth, dismissing, and
// a moderator's delete taking the message's reports with it.
import assert from "node:assert/strict";
import {
  countMessages,
  expectError,
  withNameApp,
} from "../../test/harness/name_app.ts";
import { testLimits } from "../../test/harness/app_deps.ts";
import { createRateLimiter } from "../limits/rate_limiter.ts";
import type { Database } from "../../db/database.ts";

const ADMIN = "a-moderator-token-of-some-length";

async function countReports(db: Database): Promise<number> {
  const [row] = await db.query<{ n: number | string }>(
    "select count(*) as n from reports",
  );
  return Number(row.n);
}

Deno.test("POST /reports: 201 with the report, a repeat 200 with the same, 404 for no message, 400 for bad input", async () => {
  await withNameApp(async ({ app, db, send, post }) => {
    const m = await post("spammer", "buy now");
    const res = await send("POST", "/reports", {
      messageId: m.id,
      reason: "  spam ",
      name: "Ada",
    });
    const made = await res.json();
    assert.equal(res.status, 201, JSON.stringify(made));
    assert.equal(made.messageId, m.id);
    assert.equal(made.reason, "spam");
    assert.equal(made.reporterName, "Ada");
    assert.equal(typeof made.id, "number");
    assert.equal(made.reporterAddress, undefined);
    const again = await send("POST", "/reports", { messageId: m.id });
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), made);
    // A form, as the client sends it.
    const viaForm = await app.request("/reports", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `messageId=${m.id}&reason=rude`,
    });
    assert.equal(viaForm.status, 200);
    await viaForm.body?.cancel();

    await expectError(
      await send("POST", "/reports", { messageId: 999999 }),
      404,
      /no message 999999/,
    );
    for (
      const [body, pattern] of [
        [{}, /"messageId"/],
        [[], /object/],
        [null, /object/],
        [{ messageId: 0 }, /"messageId"/],
        [{ messageId: -1 }, /"messageId"/],
        [{ messageId: 1.5 }, /"messageId"/],
        [{ messageId: "1x" }, /"messageId"/],
        [{ messageId: 1e300 }, /"messageId"/],
        [{ messageId: m.id, reason: 5 }, /"reason"/],
        [{ messageId: m.id, reason: "r".repeat(501) }, /at most 500/],
        [{ messageId: m.id, reason: "a\nb" }, /control/],
        [{ messageId: m.id, reason: "a\u009bb" }, /control/],
        [{ messageId: m.id, name: "" }, /"name"/],
        [{ messageId: m.id, name: "x".repeat(33) }, /"name"/],
        [{ messageId: m.id, extra: 1 }, /Unknown field "extra"/],
      ] as const
    ) {
      await expectError(
        await send("POST", "/reports", body),
        400,
        pattern,
      );
    }
    await expectError(
      await app.request("/reports", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: "{",
      }),
      400,
      /not valid JSON/,
    );
    await expectError(
      await app.request("/reports", { method: "POST", body: "x" }),
      415,
      /application\/json/,
    );
    // A page on another site cannot make a browser report for it.
    await expectError(
      await app.request("/reports", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Origin: "https://evil.example",
        },
        body: JSON.stringify({ messageId: m.id, reason: "forged" }),
      }),
      403,
      /not allowed/,
    );
    assert.equal(await countReports(db), 1);
  });
});

Deno.test("POST /reports: REPORT_RATE per address gives 429 with Retry-After; refused input spends nothing", async () => {
  await withNameApp(async ({ app, db, post }) => {
    const m = await post("x", "y");
    const from = (address: string, body: unknown) =>
      app.request("/reports", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Forwarded-For": address,
        },
        body: JSON.stringify(body),
      });
    // Refused input first: it must not use up the budget of 2.
    for (let i = 0; i < 3; i++) {
      await expectError(await from("192.0.2.1", { messageId: 0 }), 400, /id/);
    }
    for (let i = 0; i < 2; i++) {
      const ok = await from("192.0.2.1", { messageId: m.id });
      assert.equal(ok.status, i === 0 ? 201 : 200);
      await ok.body?.cancel();
    }
    const limited = await from("192.0.2.1", { messageId: m.id });
    assert.equal(limited.headers.get("Retry-After") !== null, true);
    await expectError(limited, 429, /many reports/);
    // Another address has its own budget.
    const other = await from("192.0.2.2", { messageId: m.id });
    assert.equal(other.status, 201);
    await other.body?.cancel();
    assert.equal(await countReports(db), 2);
  }, {
    limits: testLimits({
      report: createRateLimiter({ capacity: 2, perSecond: 0.001 }),
      trustProxy: { kind: "hops", hops: 1 },
    }),
  });
});

Deno.test("moderators: GET /moderation/reports lists open reports with the message now; dismiss; a delete takes the reports; auth", async () => {
  await withNameApp(async ({ app, db, send, post }) => {
    const a = await post("spammer", "buy now");
    const b = await post("troll", "grr");
    const report = async (messageId: number, address: string) => {
      const res = await app.request("/reports", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Forwarded-For": address,
        },
        body: JSON.stringify({ messageId, reason: "bad" }),
      });
      assert.equal(res.status, 201);
      return (await res.json()).id as number;
    };
    await report(a.id, "192.0.2.1");
    await report(a.id, "192.0.2.2");
    const onB = await report(b.id, "192.0.2.1");

    await expectError(await send("GET", "/moderation/reports"), 401, /token/);
    await expectError(
      await send("GET", "/moderation/reports", undefined, "wrong"),
      403,
      /not valid/,
    );
    await expectError(
      await send("DELETE", `/moderation/reports/${onB}`),
      401,
      /token/,
    );
    await expectError(
      await send("DELETE", `/moderation/reports/${onB}`, undefined, "nope"),
      403,
      /not valid/,
    );
    const list = async () => {
      const res = await send("GET", "/moderation/reports", undefined, ADMIN);
      assert.equal(res.status, 200);
      return (await res.json()).reports as {
        id: number;
        messageId: number;
        reportsOfMessage: number;
        reporterAddress: string;
        message: { author: string; text: string };
      }[];
    };
    const open = await list();
    assert.deepEqual(
      open.map((r) => [r.messageId, r.reportsOfMessage, r.reporterAddress]),
      [[b.id, 1, "192.0.2.1"], [a.id, 2, "192.0.2.2"], [
        a.id,
        2,
        "192.0.2.1",
      ]],
    );
    assert.deepEqual(open[0].message, { author: "troll", text: "grr" });

    await expectError(
      await send("DELETE", "/moderation/reports/abc", undefined, ADMIN),
      400,
      /report id/,
    );
    await expectError(
      await send("DELETE", "/moderation/reports/99999", undefined, ADMIN),
      404,
      /no open report 99999/,
    );
    const dismissed = await send(
      "DELETE",
      `/moderation/reports/${onB}`,
      undefined,
      ADMIN,
    );
    assert.equal(dismissed.status, 204);
    await expectError(
      await send("DELETE", `/moderation/reports/${onB}`, undefined, ADMIN),
      404,
      /no open report/,
    );
    assert.deepEqual((await list()).map((r) => r.messageId), [a.id, a.id]);

    // Acting: the moderator deletes the message; its reports go with it.
    const deleted = await send("DELETE", `/messages/${a.id}`, undefined, ADMIN);
    assert.equal(deleted.status, 204);
    assert.deepEqual(await list(), []);
    assert.equal(await countMessages(db), 1);
  }, {
    adminToken: ADMIN,
    limits: testLimits({ trustProxy: { kind: "hops", hops: 1 } }),
  });
});

Deno.test("report routes without ADMIN_TOKEN: the moderators' routes say moderation is off; POST /reports still works", async () => {
  await withNameApp(async ({ send, post }) => {
    const m = await post("x", "y");
    await expectError(
      await send("GET", "/moderation/reports", undefined, "t"),
      404,
      /Moderation is off/,
    );
    await expectError(
      await send("DELETE", "/moderation/reports/1", undefined, "t"),
      404,
      /Moderation is off/,
    );
    const res = await send("POST", "/reports", { messageId: m.id });
    assert.equal(res.status, 201);
    await res.body?.cancel();
  });
});
