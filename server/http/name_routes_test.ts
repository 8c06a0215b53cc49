// Claimed names: first come first served, tokens kept hashed and checked on
// every post under the name, moved to another device with a one-time code,
// released by their holder or after NAME_IDLE_DAYS unused.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createRateLimiter } from "../limits/rate_limiter.ts";
import { testLimits } from "../../test/harness/app_deps.ts";
import { createClaimCache } from "../store/claim_cache.ts";
import { createNameStore } from "../store/name_store.ts";
import {
  countMessages,
  expectError,
  withNameApp,
} from "../../test/harness/name_app.ts";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

Deno.test("POST /names: 201 with a token; the same name again (any case, fullwidth) is a 409 with a free suggestion", async () => {
  await withNameApp(async ({ send, db }) => {
    const res = await send("POST", "/names", { name: "  Ada " });
    assert.equal(res.status, 201);
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ["name", "token"]);
    assert.equal(body.name, "Ada");
    // At least 128 bits, base64url.
    assert.match(body.token, /^[A-Za-z0-9_-]{43,}$/);
    // Stored only as its SHA-256.
    const rows = await db.query<{ token_hash: string }>(
      "select token_hash from names",
    );
    assert.deepEqual(rows.map((r) => r.token_hash), [sha256(body.token)]);
    const dump = JSON.stringify(
      await db.query("select * from names"),
    );
    assert.ok(!dump.includes(body.token), "the token itself is not stored");

    // "ada_2" is taken too: the suggestion is one that is free.
    assert.equal((await send("POST", "/names", { name: "ada_2" })).status, 201);
    for (const same of ["ada", "ADA", "\uff41\uff44\uff41"]) {
      const taken = await send("POST", "/names", { name: same });
      const answer = await taken.json();
      assert.equal(taken.status, 409, same);
      assert.match(answer.error, /is taken/);
      // In the spelling asked for.
      assert.equal(answer.suggestion.toLowerCase(), "ada_3");
    }
    // The suggestion really is free.
    const claimed = await (await send("POST", "/names", { name: "ada_3" }))
      .json();
    assert.equal(claimed.name, "ada_3");
  });
});

Deno.test("POST /names takes a form body and refuses bad names with a 400", async () => {
  await withNameApp(async ({ app, send }) => {
    const form = await app.request("/names", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "name=bob",
    });
    assert.equal(form.status, 201);
    assert.equal((await form.json()).name, "bob");
    for (
      const [body, pattern] of [
        [{}, /"name" is required/],
        [{ name: "" }, /"name" must not be empty/],
        [{ name: "a".repeat(33) }, /"name" must be at most 32/],
        [{ name: "ev\u202eil" }, /"name" must not contain bidirectional/],
        [[], /object with "name"/],
      ] as const
    ) {
      await expectError(await send("POST", "/names", body), 400, pattern);
    }
    await expectError(await send("GET", "/names"), 405, /only POST/);
  });
});

Deno.test("a claimed name posts only with its token (403 and nothing stored otherwise), verified; others post as before, unverified", async () => {
  await withNameApp(async ({ send, claim, post, db }) => {
    const token = await claim("Ada");
    const other = await claim("bob");
    for (const [author, t] of [["ada", undefined], ["ADA", other]] as const) {
      await expectError(
        await send("POST", "/messages", { author, text: "hi" }, t),
        403,
        /claimed name|not the token/,
      );
    }
    assert.equal(await countMessages(db), 0);
    const mine = await post("ada", "it is me", token);
    assert.equal(mine.verified, true);
    assert.equal(mine.author, "Ada", "shown as claimed");
    const stranger = await post("carol", "curl still works");
    assert.equal(stranger.verified, false);
    // A token sent for an unclaimed name changes nothing.
    assert.equal((await post("dan", "hi", token)).verified, false);
  });
});

Deno.test("wrong name tokens are limited per address like admin tokens: then 429 even for the right one", async () => {
  let now = 0;
  await withNameApp(async ({ send, claim }) => {
    const token = await claim("ada");
    const wrong = () =>
      send("POST", "/messages", { author: "ada", text: "x" }, "nope");
    for (let i = 0; i < 3; i++) await expectError(await wrong(), 403, /token/);
    await expectError(
      await send("POST", "/messages", { author: "ada", text: "x" }, token),
      429,
      /Too many wrong tokens/,
    );
    now += 60_000;
    assert.equal(
      (await send("POST", "/messages", { author: "ada", text: "x" }, token))
        .status,
      201,
    );
  }, {
    limits: testLimits({
      authFailures: createRateLimiter({
        capacity: 3,
        perSecond: 1 / 60,
        now: () => now,
      }),
    }),
  });
});

Deno.test("transfer: a one-time code moves the name to another device; the old token stops working", async () => {
  await withNameApp(async ({ send, claim, post, db }) => {
    const old = await claim("ada");
    await expectError(
      await send("POST", "/names/ada/transfer"),
      401,
      /token/,
    );
    await expectError(
      await send("POST", "/names/ada/transfer", undefined, "wrong"),
      403,
      /not the token/,
    );
    await expectError(
      await send("POST", "/names/nobody/transfer", undefined, old),
      404,
      /Nobody has claimed/,
    );
    const res = await send("POST", "/names/ADA/transfer", undefined, old);
    assert.equal(res.status, 201);
    const { code, expiresAt } = await res.json();
    assert.match(
      code,
      /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/,
    );
    const ttl = Date.parse(expiresAt) - Date.now();
    assert.ok(ttl > 9 * 60_000 && ttl <= 10 * 60_000, expiresAt);
    // Stored hashed.
    const [stored] = await db.query<{ code_hash: string }>(
      "select code_hash from name_transfers",
    );
    assert.equal(stored.code_hash, sha256(code.replaceAll("-", "")));

    await expectError(
      await send("POST", "/names/claim", { code: "0000-0000-0000" }),
      403,
      /not valid/,
    );
    await expectError(
      await send("POST", "/names/claim", { code: "x" }),
      400,
      /"code"/,
    );
    // Typed by a person: lower case, spaces instead of dashes.
    const moved = await send("POST", "/names/claim", {
      code: code.toLowerCase().replaceAll("-", " "),
    });
    assert.equal(moved.status, 201);
    const fresh = await moved.json();
    assert.equal(fresh.name, "ada");
    assert.notEqual(fresh.token, old);
    // One time only.
    await expectError(
      await send("POST", "/names/claim", { code }),
      403,
      /not valid/,
    );
    await expectError(
      await send("POST", "/messages", { author: "ada", text: "x" }, old),
      403,
      /not the token/,
    );
    assert.equal((await post("ada", "moved", fresh.token)).verified, true);

    // An expired code is refused (and used up).
    const again = await (await send(
      "POST",
      "/names/ada/transfer",
      undefined,
      fresh.token,
    )).json();
    await db.query(
      "update name_transfers set expires_at = now() - interval '1 second'",
    );
    await expectError(
      await send("POST", "/names/claim", { code: again.code }),
      403,
      /expired/,
    );
  });
});

Deno.test("DELETE /names/<name> with the token releases it: someone else may claim it, and cannot edit the old messages", async () => {
  await withNameApp(async ({ send, claim, post }) => {
    const token = await claim("ada");
    const old = await post("ada", "mine", token);
    await expectError(await send("DELETE", "/names/ada"), 401, /token/);
    await expectError(
      await send("DELETE", "/names/ada", undefined, "wrong"),
      403,
      /not the token/,
    );
    assert.equal(
      (await send("DELETE", "/names/ada", undefined, token)).status,
      204,
    );
    await expectError(
      await send("DELETE", "/names/ada", undefined, token),
      404,
      /Nobody/,
    );
    // Free again: posting unverified works, and a new claim is another claim.
    assert.equal((await post("ada", "anyone")).verified, false);
    const next = await claim("ada");
    await expectError(
      await send("PATCH", `/messages/${old.id}`, { text: "hijack" }, next),
      403,
      /nobody can change it/,
    );
    await expectError(
      await send("PATCH", `/messages/${old.id}`, { text: "hijack" }, token),
      403,
      /nobody can change it/,
    );
  });
});

Deno.test("a name unused for NAME_IDLE_DAYS goes to the next claimant; using it (a post) keeps it", async () => {
  await withNameApp(async ({ send, claim, post, db }) => {
    const idle = await claim("ada");
    const busy = await claim("bob");
    await db.query(
      "update names set last_used_at = now() - interval '200 days'",
    );
    // bob posts: his idle time starts again.
    await post("bob", "still here", busy);
    assert.equal((await send("POST", "/names", { name: "bob" })).status, 409);
    const taken = await send("POST", "/names", { name: "ada" });
    assert.equal(taken.status, 201);
    await taken.body?.cancel();
    await expectError(
      await send("POST", "/messages", { author: "ada", text: "x" }, idle),
      403,
      /not the token/,
    );
  }, { nameIdleDays: 180 });
});

Deno.test("POST /messages with a token for a name this instance has cached as free asks the database: claimed elsewhere a moment ago", async () => {
  // A cache nobody tells of the other instance's claim, as in the moment
  // before its notification arrives.
  await withNameApp(async ({ send, db }) => {
    const unverified = await send("POST", "/messages", {
      author: "kim",
      text: "before",
    });
    assert.equal((await unverified.json()).verified, false);
    const token = "elsewhere-token";
    assert.notEqual(
      await createNameStore(db).claim("kim", "Kim", sha256(token), 0),
      null,
    );
    const res = await send(
      "POST",
      "/messages",
      { author: "kim", text: "after" },
      token,
    );
    const body = await res.json();
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.equal(body.verified, true);
    assert.equal(body.author, "Kim");
    await expectError(
      await send("POST", "/messages", { author: "kim", text: "no token" }),
      403,
      /claimed name/,
    );
  }, (db) => {
    const cache = createClaimCache(createNameStore(db));
    cache.setLive(true);
    return { names: cache };
  });
});
