import assert from "node:assert/strict";
import {
  type App,
  expectError,
  withApp,
} from "../../test/harness/app_requests.ts";

const ADMIN = "slow-mode-admin-token-0123456789";
const PATH = "/moderation/slow-mode";

function withAdminApp(fn: (app: App) => Promise<void>) {
  return withApp((app) => fn(app), 60_000, [], {}, ADMIN);
}

function put(
  body: string,
  token: string | null = ADMIN,
  type = "application/json",
) {
  const headers: Record<string, string> = { "Content-Type": type };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return { method: "PUT", headers, body };
}

const asAdmin = (method: string) => ({
  method,
  headers: { Authorization: `Bearer ${ADMIN}` },
});

async function postMessage(
  app: App,
  author: string,
  options: { clientId?: string; token?: string } = {},
) {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
  };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  return await app.request("/messages", {
    method: "POST",
    headers,
    body: JSON.stringify({ author, text: "hi", clientId: options.clientId }),
  });
}

async function storedCount(app: App): Promise<number> {
  const res = await app.request("/messages?limit=200");
  return (await res.json()).messages.length;
}

Deno.test("slow-mode routes: 404 without ADMIN_TOKEN, 401 without a token, 403 with a wrong one", async () => {
  await withApp(async (app) => {
    await expectError(await app.request(PATH), 404, /needs ADMIN_TOKEN/);
  });
  await withAdminApp(async (app) => {
    for (const method of ["GET", "DELETE"]) {
      await expectError(
        await app.request(PATH, { method }),
        401,
        /admin token/,
      );
      await expectError(
        await app.request(PATH, {
          method,
          headers: { Authorization: "Bearer wrong-token-0123456789" },
        }),
        403,
        /not valid/,
      );
    }
    await expectError(
      await app.request(PATH, put('{"seconds":5}', null)),
      401,
      /admin token/,
    );
    await expectError(
      await app.request(PATH, put('{"seconds":5}', "wrong-token-0123456789")),
      403,
      /not valid/,
    );
    const res = await app.request(PATH, asAdmin("GET"));
    assert.deepEqual(await res.json(), { slowMode: null }, "nothing changed");
  });
});

Deno.test("slow-mode routes: bad input is a 400 (or 415) and changes nothing", async () => {
  await withAdminApp(async (app) => {
    for (
      const body of [
        "{}",
        "[]",
        "null",
        '"text"',
        "7",
        '{"seconds":-1}',
        '{"seconds":3601}',
        '{"seconds":1.5}',
        '{"seconds":"soon"}',
        '{"seconds":true}',
        '{"seconds":null}',
        '{"seconds":10,"minutes":0}',
        '{"seconds":10,"minutes":1.5}',
        '{"seconds":10,"minutes":10081}',
        '{"seconds":10,"minutes":"1h"}',
        '{"seconds":10,"extra":1}',
        '{"__proto__":{"seconds":10}}',
        "{",
        "",
      ]
    ) {
      const res = await app.request(PATH, put(body));
      assert.equal(res.status, 400, body);
      assert.equal(typeof (await res.json()).error, "string", body);
    }
    await expectError(
      await app.request(PATH, put('{"seconds":5}', ADMIN, "text/plain")),
      415,
      /application\/json/,
    );
    await expectError(
      await app.request(
        PATH,
        put("seconds=x", ADMIN, "application/x-www-form-urlencoded"),
      ),
      400,
      /"seconds" must be a whole number from 1 to 3600/,
    );
    const res = await app.request(PATH, asAdmin("GET"));
    assert.deepEqual(await res.json(), { slowMode: null });
  });
});

Deno.test("slow-mode routes: set, read, enforce on POST /messages, clear", async () => {
  await withAdminApp(async (app) => {
    const set = await app.request(PATH, put('{"seconds":60,"minutes":5}'));
    assert.equal(set.status, 200);
    const { slowMode } = await set.json();
    assert.equal(slowMode.seconds, 60);
    assert.equal(slowMode.by, "moderator");
    const until = Date.parse(slowMode.until);
    assert.ok(Math.abs(until - Date.now() - 300_000) < 10_000, slowMode.until);
    assert.equal(typeof slowMode.setAt, "string");
    const read = await app.request(PATH, asAdmin("GET"));
    assert.deepEqual(await read.json(), { slowMode });

    const clientId = crypto.randomUUID();
    const first = await postMessage(app, "ann", { clientId });
    assert.equal(first.status, 201);
    const original = await first.json();
    const second = await postMessage(app, "Ann");
    assert.equal(second.status, 429);
    const wait = Number(second.headers.get("retry-after"));
    assert.ok(wait >= 59 && wait <= 60, `Retry-After ${wait}`);
    await expectError(
      second,
      429,
      /^Slow mode is on: one message every 60 s per name/,
    );
    assert.equal(await storedCount(app), 1, "the refused post was not stored");
    const metrics = await (await app.request("/metrics")).text();
    assert.match(metrics, /^plaza_rate_limited_total\{kind="slow_mode"\} 1$/m);
    // The same send again (its answer was lost): the original, not a 429.
    const repeat = await postMessage(app, "ann", { clientId });
    assert.equal(repeat.status, 200);
    assert.deepEqual(await repeat.json(), original);
    // Another name has its own turn.
    assert.equal((await postMessage(app, "bob")).status, 201);

    // A claimed name's turn is spent only by posts with its token.
    const claim = await app.request("/names", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "zed" }),
    });
    const { token } = await claim.json();
    assert.equal((await postMessage(app, "zed")).status, 403);
    assert.equal((await postMessage(app, "zed", { token })).status, 201);

    // A form body works too; 0 turns slow mode off.
    const form = await app.request(
      PATH,
      put("seconds=0", ADMIN, "application/x-www-form-urlencoded"),
    );
    assert.equal(form.status, 200);
    assert.deepEqual(await form.json(), { slowMode: null });
    assert.equal((await postMessage(app, "ann")).status, 201);

    const again = await app.request(PATH, put('{"seconds":30}'));
    assert.equal((await again.json()).slowMode.until, null);
    const cleared = await app.request(PATH, asAdmin("DELETE"));
    assert.equal(cleared.status, 200);
    assert.deepEqual(await cleared.json(), { slowMode: null });
    assert.equal((await postMessage(app, "ann")).status, 201);
    assert.equal((await postMessage(app, "ann")).status, 201);
  });
});
