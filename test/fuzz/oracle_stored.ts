/** The oracle for the stored state after a run: every row valid, and exactly the messages answered 201 and not deleted. */
import postgres from "postgres";
import { type Message, validateMessageInput } from "../../protocol/message.ts";
import { clip } from "./bytes.ts";
import type { RunState } from "./run_state.ts";

// Checked apart from message.ts, so that a validator that lets one through
// (and so predicts a 201) is still caught.
const NAME_BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const NAME_INVISIBLE =
  /[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u2060-\u206f\u3164\ufe00-\ufe0d\ufeff\uffa0\u{e0000}-\u{e001f}\u{e0080}-\u{e00ff}\u{e01f0}-\u{e0fff}]/u;

/** The name and text rules of README.md a stored row breaks. */
function brokenRules(row: Row): string[] {
  const broken: string[] = [];
  if (NAME_BIDI.test(row.author)) broken.push("a bidi control in the author");
  if (NAME_INVISIBLE.test(row.author)) broken.push("an invisible author char");
  if (row.author !== row.author.normalize("NFKC")) {
    broken.push("an author not folded to NFKC");
  }
  if (/\p{M}{5}/u.test(row.author)) broken.push("5+ marks in the author");
  if (/\p{M}{7}/u.test(row.text)) broken.push("7+ marks in the text");
  for (const field of [row.author, row.text]) {
    if (!/[\p{L}\p{N}\p{P}\p{S}]/u.test(field)) broken.push("nothing visible");
  }
  return broken;
}

interface Row {
  id: string;
  author: string;
  text: string;
  client_id: string | null;
}

/** Every stored row must be what the validator would store, and exactly the 201s. */
export async function checkStored(
  base: string,
  databaseUrl: string,
  state: RunState,
): Promise<string[]> {
  const problems: string[] = [];
  const sql = postgres(databaseUrl, { onnotice: () => {}, max: 1 });
  let rows: Row[];
  try {
    rows = await sql<Row[]>`
      select id::text as id, author, text, client_id::text as client_id
      from messages order by messages.id`;
  } finally {
    await sql.end({ timeout: 1 });
  }
  for (const row of rows) {
    const broken = brokenRules(row);
    if (broken.length > 0) {
      problems.push(
        `row ${row.id} ${
          JSON.stringify({ author: row.author, text: clip(row.text, 200) })
        } breaks: ${broken.join(", ")}`,
      );
    }
    const again = validateMessageInput({
      author: row.author,
      text: row.text,
      clientId: row.client_id,
    });
    if (
      !again.ok || again.value.author !== row.author ||
      again.value.text !== row.text
    ) {
      problems.push(
        `stored garbage: row ${row.id} ${
          JSON.stringify({ author: row.author, text: clip(row.text, 200) })
        } ${
          again.ok ? "is not normalised" : `fails validation (${again.error})`
        }`,
      );
    }
    const answered = state.created.get(Number(row.id));
    if (answered === undefined) {
      problems.push(`row ${row.id} was stored without a 201 answer`);
    } else if (
      answered.author !== row.author || answered.text !== row.text ||
      answered.clientId !== row.client_id
    ) {
      problems.push(`row ${row.id} differs from its 201 answer`);
    }
  }
  const stored = new Set(rows.map((r) => Number(r.id)));
  const kept = [...state.created.keys()].filter((id) => !state.deleted.has(id));
  if (rows.length !== kept.length) {
    problems.push(
      `${rows.length} rows stored, ${state.created.size} answered 201 and ${state.deleted.size} of them were deleted`,
    );
  }
  for (const id of state.deleted) {
    if (stored.has(id)) problems.push(`message ${id} deleted (204) but stored`);
  }
  for (const repeat of state.repeats) {
    if (!stored.has(repeat.id) && !state.deleted.has(repeat.id)) {
      problems.push(`a 200 repeat named message ${repeat.id}, never stored`);
    }
  }
  // The API pages through the same rows.
  const paged: Message[] = [];
  for (let after = 0;;) {
    const res = await fetch(`${base}/messages?after=${after}&limit=200`);
    const page = await res.json() as { messages: Message[]; hasMore: boolean };
    if (res.status !== 200) {
      problems.push(`GET /messages?after=${after} answered ${res.status}`);
      break;
    }
    paged.push(...page.messages);
    if (!page.hasMore || page.messages.length === 0) break;
    after = page.messages[page.messages.length - 1].id;
  }
  const pagedView = paged.map((m) =>
    JSON.stringify([m.id, m.author, m.text, m.clientId])
  );
  const rowView = rows.map((r) =>
    JSON.stringify([Number(r.id), r.author, r.text, r.client_id])
  );
  const differs = Array.from(
    { length: Math.max(pagedView.length, rowView.length) },
    (_, i) => i,
  ).find((i) => pagedView[i] !== rowView[i]);
  if (differs !== undefined) {
    problems.push(
      `GET /messages paging gave ${paged.length} messages, the table has ${rows.length}; first difference: API ${
        clip(pagedView[differs] ?? "none", 300)
      } vs table ${clip(rowView[differs] ?? "none", 300)}`,
    );
  }
  return problems;
}
