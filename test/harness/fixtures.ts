import type postgres from "postgres";
import { loadConfig } from "../../server/config.ts";
import type { Message } from "../../protocol/message.ts";
import { type Plaza, startPlaza } from "../../server/plaza.ts";
import { createTestDatabase, testDatabaseUrl } from "./pg_cluster.ts";

/** Runs `fn` with a fresh database on the test server, dropped afterwards. */
export async function withTestDatabase(
  fn: (url: string) => Promise<void>,
): Promise<void> {
  const db = await createTestDatabase(testDatabaseUrl());
  try {
    await fn(db.url);
  } finally {
    await db.drop();
  }
}

/** Starts a real Plaza instance on 127.0.0.1 and a free port; null databaseUrl means embedded PGlite in `dataDir`. */
export function startTestInstance(
  databaseUrl: string | null,
  env: Record<string, string> = {},
  options: Parameters<typeof startPlaza>[1] = {},
): Promise<Plaza> {
  return startPlaza(
    loadConfig({
      DATABASE_URL: databaseUrl ?? undefined,
      PORT: "0",
      HOST: "127.0.0.1",
      DIST_DIR: "./this-test-serves-no-client",
      // Tests post and connect from 127.0.0.1 far faster than a person;
      // the limits themselves are tested on their own.
      POST_RATE: "100000/1s",
      POST_BURST: "100000",
      STREAMS_PER_ADDRESS: "1000",
      // Tests post in bursts a room would slow down for; the automatic
      // slow mode has its own tests.
      SLOW_MODE_AUTO: "off",
      // Messages in tests link to public names (https://example.com):
      // previewing them would resolve those. Preview tests turn it on.
      LINK_PREVIEWS: "off",
      ...env,
    }),
    options,
  );
}

/** Posts a message as JSON (with the name's token and a clientId when given) and returns the stored message; throws on any status but 201. */
export async function postJson(
  baseUrl: string,
  author: string,
  text: string,
  options: { token?: string; clientId?: string } = {},
): Promise<Message> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
  };
  if (options.token !== undefined) {
    headers.Authorization = `Bearer ${options.token}`;
  }
  const res = await fetch(`${baseUrl}/messages`, {
    method: "POST",
    headers,
    body: JSON.stringify({ author, text, clientId: options.clientId }),
  });
  const body = await res.json();
  if (res.status !== 201) {
    throw new Error(
      `POST /messages answered ${res.status}: ${JSON.stringify(body)}`,
    );
  }
  return body as Message;
}

/** Claims `name` (POST /names) and returns its token; throws on any status but 201. */
export async function claimName(
  baseUrl: string,
  name: string,
): Promise<string> {
  const res = await fetch(`${baseUrl}/names`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = await res.json();
  if (res.status !== 201) {
    throw new Error(
      `POST /names answered ${res.status}: ${JSON.stringify(body)}`,
    );
  }
  return body.token;
}

/** Inserts `count` messages ("message 1"…) straight into the table, as any writer could. */
export async function seedMessages(
  sql: postgres.Sql,
  count: number,
  author = "bot",
): Promise<void> {
  await sql`
    insert into messages (author, text)
    select ${author}, 'message ' || g from generate_series(1, ${count}) g`;
}
