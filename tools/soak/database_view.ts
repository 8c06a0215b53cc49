import postgres from "postgres";
import { canonical, parseWireMessage } from "./wire_message.ts";

/** The database's view: every message by id, rendered as the API renders it (see canonical). */
export async function readAllMessages(
  url: string,
): Promise<Map<number, string>> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ m: string }[]>`
      select message_json(messages)::text as m from messages order by id`;
    const all = new Map<number, string>();
    for (const row of rows) {
      const m = parseWireMessage(row.m);
      if (m === null) throw new Error(`unreadable row ${row.m}`);
      all.set(m.id, canonical(m));
    }
    return all;
  } finally {
    await sql.end({ timeout: 1 });
  }
}
