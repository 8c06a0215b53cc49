/**
 * Fuzzes the names and message change routes of a running instance (real
 * TCP, a fresh test database): POST /names, /names/claim,
 * /names/<name>/transfer, DELETE /names/<name>, PATCH and DELETE
 * /messages/<id>, POST /messages/<id>/reactions and POST /messages with
 * replyTo and tokens, from 6 clients at once, with valid requests mixed in.
 * It checks that:
 *
 * - no answer is a 5xx, and the server logs no error;
 * - every answer is one the route documents (docs/api.md), every error is
 *   JSON `{"error": …}` (401 with WWW-Authenticate, 405 with Allow), and
 *   successes have their documented shape;
 * - afterwards every stored name and message passes the protocol's rules,
 *   and a stream replayed from the start ends with GET /messages' state.
 *
 * `FUZZ_SECONDS` (default 15) and `FUZZ_SEED` work as in fuzz_test.ts.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { loadConfig } from "../../server/config.ts";
import { type Plaza, startPlaza } from "../../server/plaza.ts";
import { createLogger } from "../../server/observe/logger.ts";
import { validateMessageInput } from "../../protocol/message.ts";
import { nameKey, validateName } from "../../protocol/names.ts";
import { REACTION_EMOJIS } from "../../protocol/reactions.ts";
import { seededRandom } from "../harness/seeded_random.ts";
import { claimName, postJson, withTestDatabase } from "../harness/fixtures.ts";
import {
  allMessages,
  applyEvent,
  messagesIn,
  type RoomState,
} from "../harness/room_state.ts";
import { openSse } from "../harness/sse_client.ts";

const CONCURRENCY = 6;
const ADMIN_TOKEN = "changes-fuzz-admin-token-0123456789";
const seconds = Number(Deno.env.get("FUZZ_SECONDS") ?? "15");
const seed = Number(
  Deno.env.get("FUZZ_SEED") ?? crypto.getRandomValues(new Uint32Array(1))[0],
);

class Rng {
  readonly next: () => number;
  constructor(s: number) {
    this.next = seededRandom(s);
  }
  int(min: number, max: number) {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number) {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  weighted<T>(table: [T, number][]): T {
    const total = table.reduce((n, [, w]) => n + w, 0);
    let x = this.next() * total;
    for (const [v, w] of table) {
      x -= w;
      if (x < 0) return v;
    }
    return table[table.length - 1][0];
  }
}

// deno-fmt-ignore
const HOSTILE = [
  "", " ", "\u0000", "a\u0000b", "\u202eevil", "ad\u200ba", "\u2800", "\ud800",
  "\udfff", "ａｄａ", "ADA", "Ada ", "x".repeat(33), "x".repeat(2001),
  "é".repeat(32), "😀".repeat(40), "a\nb", "a\r\nb", "z\u0301".repeat(9),
  "%", "../..", "ada/../bob", "null", "<script>", "🏳️‍🌈", "\u{e0001}",
];

/** A value of any JSON type, sometimes nested or hostile. */
function anyValue(g: Rng, depth = 0): unknown {
  switch (g.int(0, depth > 2 ? 4 : 6)) {
    case 0:
      return g.pick(HOSTILE);
    case 1:
      return g.pick([0, -1, 1.5, 1e308, -0, 2 ** 53, 2 ** 63, NaN]);
    case 2:
      return g.pick([null, true, false]);
    case 3:
      return String(g.int(-5, 10 ** g.int(1, 18)));
    case 4:
      return g.pick([...REACTION_EMOJIS, "👎", "\u2764", " 👍 "]);
    case 5:
      return Array.from({ length: g.int(0, 3) }, () => anyValue(g, depth + 1));
    default:
      return { text: anyValue(g, depth + 1), emoji: anyValue(g, depth + 1) };
  }
}

/** Percent-encodes; a lone surrogate becomes the bytes UTF-8 forbids for it. */
function enc(s: string): string {
  return s.isWellFormed() ? encodeURIComponent(s) : "%ED%A0%80";
}

interface Ctx {
  url: string;
  names: { name: string; token: string }[];
  /** Message ids stored at the start (some deleted by the fuzz). */
  ids: number[];
  /** Those of them each name posted (same order as `names`). */
  owned: number[][];
}

interface Case {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  route: string;
  allowed: number[];
  /** Told the parsed body of a 2xx answer. */
  onSuccess?: (body: { id: number }) => void;
}

// Not "..": fetch resolves it before sending, and the request goes elsewhere.
// deno-fmt-ignore
const ODD_SEGMENTS = [
  "%FF", "%E2%82", "%00", "%2F", "a%20b", "x".repeat(300), "١",
  "-1", "0", "1e3", "99999999999999999999", "%C0%AF", "😀",
];

function token(g: Rng, ctx: Ctx): string | undefined {
  return g.weighted<() => string | undefined>([
    [() => undefined, 2],
    [() => g.pick(ctx.names).token, 4],
    [() => ADMIN_TOKEN, 1],
    [() => g.pick(ctx.names).token + "x", 1],
    [() => "A".repeat(g.int(1, 200)), 1],
  ])();
}

function body(g: Rng, field: string): { body: string; type: string } {
  const r = g.int(0, 9);
  if (r === 0) return { body: "{", type: "application/json" };
  if (r === 1) {
    return {
      body: `${field}=${enc(String(anyValue(g)))}`,
      type: "application/x-www-form-urlencoded",
    };
  }
  if (r === 2) return { body: "x".repeat(17_000), type: "application/json" };
  if (r === 3) return { body: "{}", type: "text/plain" };
  if (r === 4) {
    return { body: JSON.stringify(anyValue(g)), type: "application/json" };
  }
  return {
    body: JSON.stringify({ [field]: anyValue(g) }),
    type: "application/json",
  };
}

function generate(g: Rng, ctx: Ctx): Case {
  // Now and then the author's own message with the author's token, so that
  // edits and deletes also succeed.
  const author = g.chance(0.3) ? g.int(0, ctx.names.length - 1) : null;
  const id = () =>
    author !== null
      ? String(g.pick(ctx.owned[author]))
      : g.chance(0.7)
      ? String(g.pick(ctx.ids))
      : g.pick(ODD_SEGMENTS);
  const name = () =>
    g.chance(0.6)
      ? enc(g.pick(ctx.names).name)
      : g.chance(0.5)
      ? g.pick(ODD_SEGMENTS)
      : enc(String(g.pick(HOSTILE)));
  const kind = g.int(0, 8);
  const t = author !== null ? ctx.names[author].token : token(g, ctx);
  const headers: Record<string, string> = {};
  if (t !== undefined) {
    headers.Authorization = g.chance(0.9) ? `Bearer ${t}` : `Basic ${t}`;
  }
  const withBody = (field: string) => {
    if (g.chance(0.4)) {
      // A valid body, so that the success paths are fuzzed too.
      headers["Content-Type"] = "application/json";
      return JSON.stringify({
        [field]: field === "emoji"
          ? g.pick(REACTION_EMOJIS)
          : `${field} ${g.int(0, 1e6)}`,
      });
    }
    const b = body(g, field);
    headers["Content-Type"] = b.type;
    return b.body;
  };
  // Paths whose segment the router may not match answer 404 (or 405).
  const path = [404, 405];
  switch (kind) {
    case 0:
      return {
        method: "POST",
        path: "/names",
        headers,
        body: withBody("name"),
        route: "POST /names",
        allowed: [201, 400, 409, 413, 415],
      };
    case 1:
      return {
        method: "POST",
        path: "/names/claim",
        headers,
        body: g.chance(0.5)
          ? (headers["Content-Type"] = "application/json",
            JSON.stringify({
              code: g.pick([
                "0000-0000-0000",
                "ABCD EFGH JKMN",
                "o1il-0000-0000",
              ]),
            }))
          : withBody("code"),
        route: "POST /names/claim",
        allowed: [400, 403, 413, 415],
      };
    case 2:
      return {
        method: "POST",
        path: `/names/${name()}/transfer`,
        headers,
        route: "POST /names/:name/transfer",
        allowed: [201, 401, 403, 404, ...path],
      };
    case 3:
      // Only the last name may be released: the others' valid cases stay
      // valid.
      if (
        ctx.names.slice(0, -1).some((n) =>
          headers.Authorization?.includes(n.token)
        )
      ) {
        headers.Authorization += "x";
      }
      return {
        method: "DELETE",
        path: `/names/${name()}`,
        headers,
        route: "DELETE /names/:name",
        allowed: [204, 401, 403, 404, ...path],
      };
    case 4:
      return {
        method: "PATCH",
        path: `/messages/${id()}`,
        headers,
        body: withBody("text"),
        route: "PATCH /messages/:id",
        allowed: [200, 400, 401, 403, 404, 413, 415, ...path],
      };
    case 5:
      return {
        method: "DELETE",
        path: `/messages/${id()}`,
        headers,
        route: "DELETE /messages/:id",
        allowed: [204, 400, 401, 403, 404, ...path],
      };
    case 6:
      return {
        method: "POST",
        path: `/messages/${id()}/reactions`,
        headers,
        body: withBody("emoji"),
        route: "POST /messages/:id/reactions",
        allowed: [200, 400, 401, 403, 404, 413, 415, ...path],
      };
    case 7: {
      headers["Content-Type"] = "application/json";
      const index = g.int(0, ctx.names.length - 1);
      const n = ctx.names[index];
      // Mostly with the name's own token: verified posts to edit later.
      if (g.chance(0.6)) headers.Authorization = `Bearer ${n.token}`;
      return {
        // New targets for the edit, delete and reaction cases.
        onSuccess: (m) => {
          ctx.ids.push(m.id);
          if (headers.Authorization === `Bearer ${n.token}`) {
            ctx.owned[index].push(m.id);
          }
        },
        method: "POST",
        path: "/messages",
        headers,
        body: JSON.stringify({
          author: g.chance(0.7) ? n.name : anyValue(g),
          text: g.chance(0.8) ? `fuzz ${g.int(0, 1e6)}` : anyValue(g),
          replyTo: g.chance(0.7) ? g.pick(ctx.ids) : anyValue(g),
        }),
        route: "POST /messages",
        allowed: [200, 201, 400, 403, 413],
      };
    }
    default:
      return {
        method: g.pick(["GET", "PUT", "PATCH", "OPTIONS"]),
        path: g.pick([
          "/names",
          "/names/claim",
          `/names/${name()}`,
          `/names/${name()}/transfer`,
          `/messages/${id()}/reactions`,
        ]),
        headers,
        route: "odd method",
        allowed: [404, 405],
      };
  }
}

Deno.test("changes fuzz: names, edits, deletes, reactions and replies never get a 5xx, keep their contract and the change log consistent", async () => {
  console.log(`changes fuzz: seed ${seed} (FUZZ_SEED), ${seconds} s`);
  await withTestDatabase(async (databaseUrl) => {
    const logged: string[] = [];
    const plaza: Plaza = await startPlaza(
      loadConfig({
        DATABASE_URL: databaseUrl,
        PORT: "0",
        HOST: "127.0.0.1",
        DIST_DIR: "./this-test-serves-no-client",
        POST_RATE: "off",
        // The fuzzer posts far past automatic slow mode's threshold.
        SLOW_MODE_AUTO: "off",
        AUTH_FAILURE_RATE: "off",
        STREAMS_PER_ADDRESS: "1000",
        ADMIN_TOKEN,
      }),
      {
        logger: createLogger({
          level: "error",
          write: (line) => logged.push(line),
        }),
      },
    );
    const sql = postgres(databaseUrl, { onnotice: () => {} });
    try {
      const names = [];
      for (const name of ["ada", "Bob", "ｃｙ", "spare"]) {
        names.push({ name, token: await claimName(plaza.url, name) });
      }
      const ids: number[] = [];
      const owned: number[][] = names.map(() => []);
      for (let i = 0; i < 30; i++) {
        const n = names[i % names.length];
        if (i % 4) owned[i % names.length].push(ids.length);
        ids.push(
          // Every fourth unverified, under a name nobody holds.
          (await postJson(
            plaza.url,
            i % 4 ? n.name : `guest ${i}`,
            `seed ${i}`,
            { token: i % 4 ? n.token : undefined },
          )).id,
        );
      }
      const ctx: Ctx = {
        url: plaza.url,
        names,
        ids,
        owned: owned.map((list) => list.map((i) => ids[i])),
      };
      const problems: string[] = [];
      const tally = new Map<string, Map<number, number>>();
      let next = 0;
      const deadline = Date.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (Date.now() < deadline) {
            const index = next++;
            const c = generate(
              new Rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0),
              ctx,
            );
            let res: Response;
            try {
              res = await fetch(`${plaza.url}${c.path}`, {
                method: c.method,
                headers: c.headers,
                body: c.body,
                signal: AbortSignal.timeout(10_000),
              });
            } catch (error) {
              problems.push(`case ${index} ${c.method} ${c.path}: ${error}`);
              continue;
            }
            const text = await res.text();
            if (res.ok && c.onSuccess) c.onSuccess(JSON.parse(text));
            const counts = tally.get(c.route) ?? new Map();
            counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
            tally.set(c.route, counts);
            const say = (what: string) =>
              problems.push(
                `case ${index} ${c.method} ${c.path.slice(0, 80)} ${
                  JSON.stringify(c.body?.slice(0, 120))
                }: ${res.status} ${what} ${text.slice(0, 200)}`,
              );
            if (!c.allowed.includes(res.status)) say("not allowed");
            if (res.status >= 400) {
              let error: unknown;
              try {
                error = JSON.parse(text).error;
              } catch {
                // Checked below.
              }
              if (typeof error !== "string") say("error is not JSON");
              if (res.status === 405 && !res.headers.has("allow")) {
                say("405 without Allow");
              }
              if (res.status === 401 && !res.headers.has("www-authenticate")) {
                say("401 without WWW-Authenticate");
              }
            } else if (res.status === 201 && c.route === "POST /names") {
              const claim = JSON.parse(text);
              if (!/^[A-Za-z0-9_-]{43,}$/.test(claim.token)) say("bad token");
              if (!validateName(claim.name).ok) say("bad name");
            } else if (
              res.status === 200 && c.route === "PATCH /messages/:id"
            ) {
              // An edit to the text the message already has changes nothing
              // (editedAt stays as it was, null if never edited), and cases
              // run concurrently, so the text before is unknown here: only
              // the shape is checked; the end state checks the rest.
              const m = JSON.parse(text);
              if (
                m.editedAt !== null &&
                !(Date.parse(m.editedAt) >= Date.parse(m.createdAt))
              ) {
                say("bad editedAt");
              }
            } else if (
              res.status === 200 && c.route === "POST /messages/:id/reactions"
            ) {
              const r = JSON.parse(text);
              if (
                typeof r.reacted !== "boolean" ||
                !Array.isArray(r.message?.reactions)
              ) {
                say("bad reaction answer");
              }
            }
          }
        }),
      );
      console.log(`changes fuzz: ${next} requests`);
      for (const [route, counts] of [...tally].sort()) {
        console.log(
          `  ${route.padEnd(28)} ${
            [...counts].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`)
              .join(" ")
          }`,
        );
      }
      assert.deepEqual(problems.slice(0, 20), []);
      assert.deepEqual(logged, [], "the server logged errors");

      // Nothing stored breaks the rules.
      for (
        const row of await sql<
          { name: string; key: string }[]
        >`select name, key from names`
      ) {
        const valid = validateName(row.name);
        assert.ok(valid.ok && valid.value === row.name, row.name);
        assert.equal(row.key, nameKey(row.name));
      }
      const messages = await allMessages(plaza.url);
      for (const m of messages) {
        const again = validateMessageInput({ author: m.author, text: m.text });
        assert.ok(again.ok && again.value.text === m.text, JSON.stringify(m));
      }
      // The change log still replays to the state GET /messages gives.
      const stream = await openSse(`${plaza.url}/stream?since=0`);
      const [{ last }] = await sql<{ last: number }[]>`
        select greatest((select max(id) from messages),
          (select max(seq) from changes))::int as last`;
      await stream.until((e) => e.some((x) => Number(x.id) === last));
      await stream.close();
      const state: RoomState = new Map();
      for (const e of stream.events) applyEvent(state, e);
      assert.deepEqual(messagesIn(state), messages);
      // And the room still works.
      const fresh = await claimName(plaza.url, `after-fuzz-${seed % 1000}`);
      const m = await postJson(
        plaza.url,
        `after-fuzz-${seed % 1000}`,
        "still fine",
        { token: fresh },
      );
      assert.equal(m.verified, true);
    } finally {
      await sql.end({ timeout: 1 });
      await plaza.close();
    }
  });
});
