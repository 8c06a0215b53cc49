/**
 * `deno task moderate …`: moderates a running Plaza.
 *   moderate <message id>…         deletes messages
 *   moderate ban name <name> [--duration <seconds>] [--reason <text>] [--remove-recent]
 *   moderate ban address <ip or CIDR> [--duration <seconds>] [--reason <text>]
 *   moderate unban <ban id>…       lifts bans
 *   moderate bans                  lists the bans in force
 *   moderate reports               lists open reports, with commands to act
 *   moderate dismiss <report id>…  closes reports without acting
 *   moderate slow-mode [<seconds> [<minutes>] | off]
 *                                  shows, sets or clears slow mode
 *   moderate bots [add <name> [<webhook>] [--allow-local] | remove <name>…]
 *                                  lists, registers or removes bots
 * Reads PLAZA_URL (default http://localhost:8000) and ADMIN_TOKEN (the one
 * the server was started with) from the environment.
 */

import { type Call, reasonOf, runReportCommand } from "./moderate/reports.ts";
import { BOTS_USAGE, runBotCommand } from "./moderate/bots.ts";

const USAGE =
  `usage: ADMIN_TOKEN=… [PLAZA_URL=http://localhost:8000] deno task moderate <command>
  <message id>…                 delete messages
  ban name <name> [--duration <seconds>] [--reason <text>] [--remove-recent]
  ban address <ip or CIDR> [--duration <seconds>] [--reason <text>]
  unban <ban id>…               lift bans
  bans                          list the bans in force
  reports                       list open reports, each with the commands that act on it
  dismiss <report id>…          close reports without acting
  slow-mode                     show slow mode
  slow-mode <seconds> [minutes] one message per name per <seconds>, for [minutes] (else until cleared)
  slow-mode off                 turn slow mode off
${BOTS_USAGE}`;

/** Parses `ban name|address <target> [options]` into the POST body, or an error. */
export function banBody(
  args: string[],
): { ok: true; body: Record<string, unknown> } | { ok: false; error: string } {
  const [kind, target, ...rest] = args;
  if ((kind !== "name" && kind !== "address") || target === undefined) {
    return { ok: false, error: "ban needs `name <name>` or `address <ip>`" };
  }
  const body: Record<string, unknown> = { [kind]: target };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    if (flag === "--remove-recent") {
      body.removeRecentMessages = true;
    } else if (flag === "--duration" && rest[i + 1] !== undefined) {
      body.durationSeconds = Number(rest[++i]);
    } else if (flag === "--reason" && rest[i + 1] !== undefined) {
      body.reason = rest[++i];
    } else {
      return { ok: false, error: `unknown option ${flag}` };
    }
  }
  return { ok: true, body };
}

/** Slow mode as one line, from GET or PUT /moderation/slow-mode's body. */
function describeSlowMode(text: string): string {
  const { slowMode: s } = JSON.parse(text) as {
    slowMode: Record<string, unknown> | null;
  };
  return s === null
    ? "slow mode is off"
    : `slow mode: one message every ${s.seconds} s per name, until ${
      s.until ?? "cleared"
    } (set by ${s.by})`;
}

/** `slow-mode [<seconds> [<minutes>] | off]`: the request to send, or null for bad arguments. */
export function slowModeRequest(
  args: string[],
): { method: string; body?: Record<string, unknown> } | null {
  const [seconds, minutes, extra] = args;
  if (seconds === undefined) return { method: "GET" };
  if (extra !== undefined) return null;
  if (seconds === "off") {
    return minutes === undefined ? { method: "DELETE" } : null;
  }
  if (
    !/^\d+$/.test(seconds) || (minutes !== undefined && !/^\d+$/.test(minutes))
  ) {
    return null;
  }
  const body: Record<string, unknown> = { seconds: Number(seconds) };
  if (minutes !== undefined) body.minutes = Number(minutes);
  return { method: "PUT", body };
}

async function run(args: string[], call: Call): Promise<number> {
  const [command, ...rest] = args;
  const reported = await runReportCommand(command, rest, call);
  if (reported !== null) return reported;
  const bots = await runBotCommand(command, rest, call);
  if (bots !== null) return bots;
  if (command === "slow-mode") {
    const request = slowModeRequest(rest);
    if (request === null) {
      console.error(USAGE);
      return 2;
    }
    const res = await call(
      request.method,
      "/moderation/slow-mode",
      request.body,
    );
    if (res.status !== 200) {
      console.error(`slow-mode: ${res.status} ${reasonOf(res.text)}`);
      return 1;
    }
    console.log(describeSlowMode(res.text));
    return 0;
  }
  if (command === "bans") {
    const res = await call("GET", "/moderation/bans");
    if (res.status !== 200) {
      console.error(`bans: ${res.status} ${reasonOf(res.text)}`);
      return 1;
    }
    const { bans } = JSON.parse(res.text) as {
      bans: Record<string, unknown>[];
    };
    if (bans.length === 0) console.log("no bans in force");
    for (const b of bans) {
      console.log(
        `${b.id}\t${b.name ?? b.address}\tuntil ${b.expiresAt ?? "lifted"}\t${
          b.reason ?? ""
        }`,
      );
    }
    return 0;
  }
  if (command === "ban") {
    const parsed = banBody(rest);
    if (!parsed.ok) {
      console.error(`${parsed.error}\n${USAGE}`);
      return 2;
    }
    const res = await call("POST", "/moderation/bans", parsed.body);
    if (res.status !== 201) {
      console.error(`ban: ${res.status} ${reasonOf(res.text)}`);
      return 1;
    }
    const ban = JSON.parse(res.text);
    console.log(
      `ban ${ban.id}: ${
        ban.name ?? ban.address
      }, removed ${ban.removedMessages} recent messages`,
    );
    return 0;
  }
  const unban = command === "unban";
  const ids = unban ? rest : args;
  if (ids.length === 0) {
    console.error(USAGE);
    return 2;
  }
  let failed = 0;
  for (const id of ids) {
    const path = unban
      ? `/moderation/bans/${encodeURIComponent(id)}`
      : `/messages/${encodeURIComponent(id)}`;
    const res = await call("DELETE", path);
    if (res.status === 204) {
      console.log(unban ? `lifted ban ${id}` : `deleted message ${id}`);
    } else {
      failed++;
      console.error(
        `${unban ? "ban" : "message"} ${id}: ${res.status} ${
          reasonOf(res.text)
        }`,
      );
    }
  }
  return failed === 0 ? 0 : 1;
}

async function main(args: string[]): Promise<number> {
  const base = Deno.env.get("PLAZA_URL") ?? "http://localhost:8000";
  const token = Deno.env.get("ADMIN_TOKEN");
  if (!token || args.length === 0) {
    console.error(USAGE);
    return 2;
  }
  return await run(args, async (method, path, body) => {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
