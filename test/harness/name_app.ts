/**
 * An app over a fresh test database, with short helpers for the names and
 * message change routes (tests of name_routes.ts and
 * message_change_routes.ts share them).
 */
import assert from "node:assert/strict";
import { type AppDependencies, createApp } from "../../server/http/app.ts";
import { createHub } from "../../server/live/hub.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import type { Database } from "../../db/database.ts";
import { testAppDependencies } from "./app_deps.ts";
import { withTestDatabase } from "./fixtures.ts";
import type { Message } from "../../protocol/message.ts";
import { expectError } from "./app_requests.ts";

/** What a test of the name routes gets. */
export interface NameApp {
  app: ReturnType<typeof createApp>;
  db: Database;
  /** A request with a JSON body (when given) and a bearer token (when given). */
  send(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<Response>;
  /** Claims `name`; returns its token (asserts 201). */
  claim(name: string): Promise<string>;
  /** Posts and returns the stored message (asserts 201). */
  post(
    author: string,
    text: string,
    token?: string,
    extra?: object,
  ): Promise<Message>;
}

/** Runs `fn` with an app over a fresh, migrated database. */
export async function withNameApp(
  fn: (t: NameApp) => Promise<void>,
  overrides:
    | Partial<AppDependencies>
    | ((db: Database) => Partial<AppDependencies>) = {},
): Promise<void> {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    const hub = createHub({ heartbeatMs: 60_000 });
    try {
      await migrate(db, await readMigrations());
      const app = createApp(testAppDependencies(
        db,
        hub,
        typeof overrides === "function" ? overrides(db) : overrides,
      ));
      const send: NameApp["send"] = (method, path, body, token) => {
        const headers: Record<string, string> = {};
        if (body !== undefined) headers["Content-Type"] = "application/json";
        if (token !== undefined) headers.Authorization = `Bearer ${token}`;
        return Promise.resolve(app.request(path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        }));
      };
      const claim = async (name: string) => {
        const res = await send("POST", "/names", { name });
        const body = await res.json();
        assert.equal(res.status, 201, JSON.stringify(body));
        return body.token as string;
      };
      const post: NameApp["post"] = async (author, text, token, extra) => {
        const res = await send(
          "POST",
          "/messages",
          { author, text, ...extra },
          token,
        );
        const body = await res.json();
        assert.equal(res.status, 201, JSON.stringify(body));
        return body as Message;
      };
      await fn({ app, db, send, claim, post });
    } finally {
      hub.close();
      await db.close();
    }
  });
}

/** How many messages are stored. */
export async function countMessages(db: Database): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    "select count(*)::int as n from messages",
  );
  return row.n;
}

export { expectError };
