/**
 * The report commands of `deno task moderate`: `reports` lists the open
 * reports, each with the commands that act on it, and `dismiss <id>…`
 * closes reports without acting.
 */

/** How the commands reach the server (see tools/moderate.ts). */
export type Call = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; text: string }>;

/** Most characters of a message shown in the list. */
export const SHOWN_TEXT = 200;

/** An open report as GET /moderation/reports gives it. */
export interface ListedReport {
  id: number;
  messageId: number;
  reason: string | null;
  reporterName: string | null;
  reporterAddress: string;
  createdAt: string;
  message: { author: string; text: string };
  reportsOfMessage: number;
}

/** Quotes `word` for a POSIX shell, so a pasted command means what it shows. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'\\''`)}'`;
}

// Messages may hold line breaks (nothing else the terminal would act on:
// the database refuses other control characters); one line each here.
function oneLine(text: string, max: number): string {
  const flat = text.replace(/\r?\n/g, " ⏎ ");
  const chars = [...flat];
  return chars.length > max ? chars.slice(0, max).join("") + "…" : flat;
}

/** A report as lines: what was reported, by whom, and the commands that act on it. */
export function describeReport(r: ListedReport): string[] {
  const who = r.reporterName === null
    ? r.reporterAddress
    : `${r.reporterAddress} (says ${r.reporterName})`;
  const others = r.reportsOfMessage > 1
    ? `, ${r.reportsOfMessage} open reports of it`
    : "";
  const cmd = "deno task moderate";
  return [
    `report ${r.id}: message ${r.messageId}${others}, ${r.createdAt}, from ${who}`,
    `  ${r.message.author}: ${oneLine(r.message.text, SHOWN_TEXT)}`,
    ...(r.reason === null ? [] : [`  reason: ${oneLine(r.reason, 500)}`]),
    `  delete the message:  ${cmd} ${r.messageId}`,
    `  ban its author:      ${cmd} ban name ${
      shellQuote(r.message.author)
    } --remove-recent`,
    `  ban the reporter:    ${cmd} ban address ${
      shellQuote(r.reporterAddress)
    }`,
    `  dismiss the report:  ${cmd} dismiss ${r.id}`,
  ];
}

/** The server's error sentence, or the body as it came. */
export function reasonOf(text: string): string {
  try {
    return JSON.parse(text).error ?? text;
  } catch {
    return text;
  }
}

/** Runs `reports` or `dismiss <id>…`; null when `command` is neither. */
export async function runReportCommand(
  command: string | undefined,
  rest: string[],
  call: Call,
): Promise<number | null> {
  if (command === "reports") {
    const res = await call("GET", "/moderation/reports");
    if (res.status !== 200) {
      console.error(`reports: ${res.status} ${reasonOf(res.text)}`);
      return 1;
    }
    const { reports } = JSON.parse(res.text) as { reports: ListedReport[] };
    if (reports.length === 0) console.log("no open reports");
    for (const r of reports) console.log(describeReport(r).join("\n") + "\n");
    return 0;
  }
  if (command !== "dismiss") return null;
  if (rest.length === 0) {
    console.error("dismiss needs report ids");
    return 2;
  }
  let failed = 0;
  for (const id of rest) {
    const res = await call(
      "DELETE",
      `/moderation/reports/${encodeURIComponent(id)}`,
    );
    if (res.status === 204) console.log(`dismissed report ${id}`);
    else {
      failed++;
      console.error(`report ${id}: ${res.status} ${reasonOf(res.text)}`);
    }
  }
  return failed === 0 ? 0 : 1;
}
