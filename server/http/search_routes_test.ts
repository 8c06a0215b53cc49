// GET /messages?q=: full-text search with stemming, paging and hostile
// input, on PostgreSQL and on the embedded PGlite.
import assert from "node:assert/strict";
import type { Database } from "../../db/database.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPgliteDatabase } from "../../db/pglite_database.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import type { Message } from "../../protocol/message.ts";
import { createHub } from "../live/hub.ts";
import {
  testAppDependencies,
  testLimits,
} from "../../test/harness/app_deps.ts";
import { createRateLimiter } from "../limits/rate_limiter.ts";
import type { AppLimits } from "./app_env.ts";
import { expectError, json } from "../../test/harness/app_requests.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";
import { createApp } from "./app.ts";
import { MAX_SEARCH_LENGTH, SEARCH_BURST } from "./search_routes.ts";

interface Room {
  db: Database;
  post(text: string, author?: string): Promise<Message>;
  search(query: string): Promise<Response>;
  /** The texts a search finds, newest first (asserts 200). */
  texts(query: string): Promise<string[]>;
}

// Searches without a limit, unless a test gives one.
const unlimited = createRateLimiter({ capacity: 1e6, perSecond: 1e6 });

async function withRoom(
  db: Database,
  fn: (room: Room) => Promise<void>,
  limits: Partial<AppLimits> = { search: unlimited },
) {
  const hub = createHub({ heartbeatMs: 60_000 });
  try {
    await migrate(db, await readMigrations());
    const app = createApp(
      testAppDependencies(db, hub, { limits: testLimits(limits) }),
    );
    const search = (query: string) =>
      Promise.resolve(app.request(`/messages?${query}`));
    await fn({
      db,
      async post(text, author = "ada") {
        const res = await app.request(
          "/messages",
          json(JSON.stringify({ author, text })),
        );
        assert.equal(res.status, 201);
        return await res.json();
      },
      search,
      async texts(query) {
        const res = await search(`q=${encodeURIComponent(query)}`);
        const body = await res.json();
        assert.equal(res.status, 200, JSON.stringify(body));
        return body.messages.map((m: Message) => m.text);
      },
    });
  } finally {
    hub.close();
    await db.close();
  }
}

const onPostgres = (
  fn: (room: Room) => Promise<void>,
  limits?: Partial<AppLimits>,
) =>
  withTestDatabase((url) => withRoom(createPostgresDatabase(url), fn, limits));
const onPglite = async (fn: (room: Room) => Promise<void>) =>
  withRoom(await createPgliteDatabase(null), fn);

// Stemming, newest first, words in any case, and phrases.
async function stems(room: Room) {
  await room.post("I was running late");
  await room.post("the cat sat");
  await room.post("She runs every day", "bob");
  await room.post("RUN!");
  await room.post("Zoë läuft nach Köln");
  const runs = ["RUN!", "She runs every day", "I was running late"];
  assert.deepEqual(await room.texts("run"), runs);
  assert.deepEqual(await room.texts("Running"), runs);
  assert.deepEqual(await room.texts('"running late"'), ["I was running late"]);
  assert.deepEqual(await room.texts("run -late"), runs.slice(0, 2));
  assert.deepEqual(await room.texts("cat or day"), [
    "She runs every day",
    "the cat sat",
  ]);
  // Words of other languages still match themselves.
  assert.deepEqual(await room.texts("köln"), ["Zoë läuft nach Köln"]);
  // Only stop words: nothing to look for, so nothing found.
  assert.deepEqual(await room.texts("the"), []);
  const found = await (await room.search("q=run")).json();
  assert.equal(found.hasMore, false);
  assert.equal(found.messages[0].author, "ada");
  assert.equal(typeof found.messages[0].createdAt, "string");
}

// Whatever the query holds, the answer is a 400 or a page, never a 500.
async function hostile(room: Room) {
  await room.post("a quote ' and a \\ backslash & pipe | bang !");
  const refused: [string, RegExp][] = [
    ["q=", /must not be empty/],
    ["q=%20%09%20", /must not be empty/],
    [`q=${"x".repeat(MAX_SEARCH_LENGTH + 1)}`, /at most 200/],
    ["q=a%00b", /control characters/],
    ["q=%00", /control characters/],
    ["q=run&after=1", /"before", not "after"/],
    ["q=run&before=abc", /before/],
    ["q=run&limit=0", /limit/],
    ["q=run&limit=201", /limit/],
  ];
  for (const [query, pattern] of refused) {
    await expectError(await room.search(query), 400, pattern);
  }
  const odd = [
    `'&|!:*()<>"\\`,
    "&",
    "|",
    "!",
    "(",
    "))",
    ":*",
    "a:*",
    "a <-> b",
    "<2>",
    "-",
    "--",
    '"',
    '""',
    "or",
    "-or or -",
    "'; drop table messages; --",
    "\\",
    "%",
    "💥",
    "\u202e",
    "\ufffd",
    "é".repeat(MAX_SEARCH_LENGTH),
    "a ".repeat(MAX_SEARCH_LENGTH / 2),
    "x".repeat(MAX_SEARCH_LENGTH),
  ];
  for (const query of odd) {
    const res = await room.search(`q=${encodeURIComponent(query)}`);
    const body = await res.json();
    assert.equal(res.status, 200, `${query}: ${JSON.stringify(body)}`);
    assert.ok(Array.isArray(body.messages), query);
    assert.equal(typeof body.hasMore, "boolean", query);
  }
  // The table is still there, with its message.
  assert.deepEqual(await room.texts("backslash"), [
    "a quote ' and a \\ backslash & pipe | bang !",
  ]);
}

// Whether the search's own query is answered through the index (with
// sequential scans priced out, as they would be on a large table).
async function usesIndex(db: Database): Promise<boolean> {
  const plan = await db.transaction(async (tx) => {
    await tx.exec("set local enable_seqscan = off");
    return await tx.query<{ "QUERY PLAN": string }>(
      `explain select id from messages
       where to_tsvector('english'::regconfig, text)
         @@ websearch_to_tsquery('english'::regconfig, 'run')
         and id < 100 order by id desc limit 51`,
    );
  });
  return plan.some((row) => row["QUERY PLAN"].includes("messages_text_search"));
}

Deno.test("GET /messages?q=: stemmed words, phrases, or and -not, newest first; stop words alone find nothing", async () => {
  await onPostgres(async (room) => {
    await stems(room);
    assert.ok(await usesIndex(room.db));
  });
});

Deno.test("GET /messages?q=: the same on the embedded PGlite, index included, and hostile queries are a 400 or a page there too", async () => {
  await onPglite(async (room) => {
    await stems(room);
    assert.ok(await usesIndex(room.db));
    await hostile(room);
  });
});

Deno.test("GET /messages?q=: empty, too long, NUL or with after is a 400; operators, quotes and SQL are just text", async () => {
  await onPostgres(hostile);
});

Deno.test("GET /messages?q=: pages with before and limit, hasMore says when older matches remain", async () => {
  await onPostgres(async (room) => {
    const apples: Message[] = [];
    for (let i = 1; i <= 5; i++) {
      apples.push(await room.post(`apple ${i}`));
      await room.post(`pear ${i}`);
    }
    const page = async (query: string) => {
      const res = await room.search(query);
      assert.equal(res.status, 200);
      const body = await res.json();
      return [body.messages.map((m: Message) => m.id), body.hasMore];
    };
    const ids = apples.map((m) => m.id).reverse();
    assert.deepEqual(await page("q=apples&limit=2"), [ids.slice(0, 2), true]);
    assert.deepEqual(
      await page(`q=apples&limit=2&before=${ids[1]}`),
      [ids.slice(2, 4), true],
    );
    assert.deepEqual(
      await page(`q=apples&limit=2&before=${ids[3]}`),
      [ids.slice(4), false],
    );
    assert.deepEqual(await page(`q=apples&before=${ids[4]}`), [[], false]);
    // The default page holds them all.
    assert.deepEqual(await page("q=apple"), [ids, false]);
  });
});

Deno.test("GET /messages?q=: a deleted message is never found, an edited one by its new words only", async () => {
  await onPostgres(async (room) => {
    const gone = await room.post("secret plans");
    const kept = await room.post("public plans");
    await room.db.query("delete from messages where id = $1", [gone.id]);
    assert.deepEqual(await room.texts("plans"), ["public plans"]);
    await room.db.query(
      "update messages set text = 'open ideas' where id = $1",
      [
        kept.id,
      ],
    );
    assert.deepEqual(await room.texts("plans"), []);
    assert.deepEqual(await room.texts("idea"), ["open ideas"]);
  });
});

Deno.test("GET /messages?q=: searches per address have a bucket of their own (burst, then 429 with Retry-After); refused queries spend nothing", async () => {
  await onPostgres(async (room) => {
    for (let i = 0; i < 5; i++) {
      await expectError(await room.search("q="), 400, /empty/);
    }
    for (let i = 0; i < SEARCH_BURST; i++) {
      assert.equal((await room.search("q=word")).status, 200, `search ${i}`);
    }
    const res = await room.search("q=word");
    assert.equal(res.headers.get("retry-after"), "1");
    await expectError(res, 429, /Too many searches/);
    // Scrollback is not counted.
    assert.equal((await room.search("limit=1")).status, 200);
  }, {});
});
