// Requests against an app built on the test database, and the checks the
// HTTP tests share.
import assert from "node:assert/strict";
import { createApp } from "../../server/http/app.ts";
import type { AppLimits } from "../../server/http/app_env.ts";
import { createHub, type Hub } from "../../server/live/hub.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { testAppDependencies, testLimits } from "./app_deps.ts";
import { withTestDatabase } from "./fixtures.ts";

/** The Hono app createApp builds. */
export type App = ReturnType<typeof createApp>;

/** Runs `fn` against an app on a fresh, migrated test database; closes both after. */
export async function withApp(
  fn: (app: App, hub: Hub) => Promise<void>,
  heartbeatMs = 60_000,
  allowedOrigins: string[] = [],
  limits: Partial<AppLimits> = {},
  adminToken: string | null = null,
) {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    const hub = createHub({ heartbeatMs });
    try {
      await migrate(db, await readMigrations());
      const app = createApp(testAppDependencies(db, hub, {
        limits: testLimits(limits),
        heartbeatMs,
        allowedOrigins,
        adminToken,
      }));
      await fn(app, hub);
    } finally {
      hub.close();
      await db.close();
    }
  });
}

/** Checks a JSON error answer: its status, content type and message. */
export async function expectError(
  res: Response,
  status: number,
  pattern: RegExp,
) {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  assert.equal(typeof body.error, "string");
  assert.match(body.error, pattern);
}

/** A POST with a JSON body. */
export const json = (body: string) => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body,
});

/** A POST with a form body. */
export const form = (body: string) => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body,
});
