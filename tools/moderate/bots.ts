/**
 * The bot commands of `deno task moderate`:
 *   bots                                   lists the bots
 *   bots add <name> [<webhook URL>] [--allow-local]
 *                                          registers one; prints its token and secret once
 *   bots remove <name>…                    unregisters bots and releases their names
 */
import { type Call, reasonOf } from "./reports.ts";

/** The usage lines of the bot commands (tools/moderate.ts shows them). */
export const BOTS_USAGE = `  bots                          list the bots
  bots add <name> [<webhook URL>] [--allow-local]
                                register a bot; prints its name token and webhook secret once
  bots remove <name>…           unregister bots (their names are released)`;

/** Parses `bots add <name> [<url>] [--allow-local]` into the POST body, or null for bad arguments. */
export function botBody(args: string[]): Record<string, unknown> | null {
  const allowLocal = args.includes("--allow-local");
  const [name, webhook, ...extra] = args.filter((a) => a !== "--allow-local");
  if (name === undefined || extra.length > 0 || name.startsWith("--")) {
    return null;
  }
  const body: Record<string, unknown> = { name };
  if (webhook !== undefined) body.webhook = webhook;
  if (allowLocal) body.allowLocal = true;
  return body;
}

/** Runs `bots …`; null when `command` is not "bots". */
export async function runBotCommand(
  command: string | undefined,
  rest: string[],
  call: Call,
): Promise<number | null> {
  if (command !== "bots") return null;
  const [sub, ...args] = rest;
  if (sub === undefined) {
    const res = await call("GET", "/moderation/bots");
    if (res.status !== 200) {
      console.error(`bots: ${res.status} ${reasonOf(res.text)}`);
      return 1;
    }
    const { bots } = JSON.parse(res.text) as {
      bots: Record<string, unknown>[];
    };
    if (bots.length === 0) console.log("no bots");
    for (const b of bots) {
      console.log(
        `${b.name}\t${b.webhook ?? "(no webhook)"}${
          b.allowLocal ? "\tallow-local" : ""
        }\tsince ${b.createdAt}`,
      );
    }
    return 0;
  }
  if (sub === "add") {
    const body = botBody(args);
    if (body === null) {
      console.error(`usage:\n${BOTS_USAGE}`);
      return 2;
    }
    const res = await call("POST", "/moderation/bots", body);
    if (res.status !== 201) {
      console.error(`bots add: ${res.status} ${reasonOf(res.text)}`);
      return 1;
    }
    const bot = JSON.parse(res.text);
    console.log(
      [
        `registered bot ${bot.name}${
          bot.webhook ? ` (webhook ${bot.webhook})` : ""
        }`,
        `name token (the bot posts with Authorization: Bearer <token>): ${bot.token}`,
        `webhook secret (verifies Plaza-Signature): ${bot.secret}`,
        "Neither is shown again.",
      ].join("\n"),
    );
    return 0;
  }
  if (sub === "remove" && args.length > 0) {
    let failed = 0;
    for (const name of args) {
      const res = await call(
        "DELETE",
        `/moderation/bots/${encodeURIComponent(name)}`,
      );
      if (res.status === 204) console.log(`removed bot ${name}`);
      else {
        failed++;
        console.error(`bot ${name}: ${res.status} ${reasonOf(res.text)}`);
      }
    }
    return failed === 0 ? 0 : 1;
  }
  console.error(`usage:\n${BOTS_USAGE}`);
  return 2;
}
