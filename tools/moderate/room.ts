/**
 * The room-settings commands of `deno task moderate`:
 *   notice                          shows the pinned notice
 *   notice set <text>               pins a notice (light markdown)
 *   notice clear                    takes it down
 *   lockdown                        shows the lockdown
 *   lockdown all [--reason <text>]  read-only for everyone
 *   lockdown newer <since> [--reason <text>]
 *                                   read-only for names claimed after
 *                                   <since> (an ISO time, or "30m" / "2h"
 *                                   ago) and for unclaimed names
 *   lockdown off                    lifts it
 */
import { type Call, reasonOf } from "./reports.ts";

/** The usage lines these commands add to tools/moderate.ts's. */
export const ROOM_USAGE =
  `  notice                        show the pinned notice
  notice set <text>             pin a notice (light markdown) under the header
  notice clear                  take the notice down
  lockdown                      show the lockdown
  lockdown all [--reason <text>]
                                read-only for everyone
  lockdown newer <since> [--reason <text>]
                                read-only for names claimed after <since> (ISO time, or 30m / 2h ago) and unclaimed names
  lockdown off                  lift the lockdown`;

/** A request to send: method, path and body. */
export interface RoomRequest {
  method: string;
  path: string;
  body?: Record<string, unknown>;
}

const AGO = /^(\d{1,6})([mh])$/;

/** `<since>` as an ISO time: "30m" and "2h" count back from `now`; anything else goes to the server as given. */
export function sinceOf(arg: string, now = Date.now()): string {
  const ago = AGO.exec(arg);
  if (ago === null) return arg;
  const ms = Number(ago[1]) * (ago[2] === "h" ? 3600_000 : 60_000);
  return new Date(now - ms).toISOString();
}

/** Parses `notice …` or `lockdown …` into the request to send; null for bad arguments. */
export function roomRequest(
  command: string,
  args: string[],
  now = Date.now(),
): RoomRequest | null {
  if (command === "notice") {
    const [verb, text, extra] = args;
    if (verb === undefined) return { method: "GET", path: "/room" };
    if (verb === "clear" && text === undefined) {
      return { method: "DELETE", path: "/moderation/notice" };
    }
    if (verb === "set" && text !== undefined && extra === undefined) {
      return { method: "PUT", path: "/moderation/notice", body: { text } };
    }
    return null;
  }
  const [scope, ...rest] = args;
  if (scope === undefined) return { method: "GET", path: "/room" };
  if (scope === "off") {
    return rest.length === 0
      ? { method: "DELETE", path: "/moderation/lockdown" }
      : null;
  }
  const body: Record<string, unknown> = { scope };
  if (scope === "newer") {
    const since = rest.shift();
    if (since === undefined || since.startsWith("--")) return null;
    body.since = sinceOf(since, now);
  } else if (scope !== "all") {
    return null;
  }
  if (rest.length === 2 && rest[0] === "--reason") {
    body.reason = rest[1];
  } else if (rest.length !== 0) {
    return null;
  }
  return { method: "PUT", path: "/moderation/lockdown", body };
}

/** The notice or the lockdown as lines, from a GET /room or a PUT/DELETE answer. */
export function describeRoom(command: string, text: string): string {
  const room = JSON.parse(text) as {
    notice: { text: string; version: number; setAt: string } | null;
    lockdown: {
      scope: string;
      since: string | null;
      reason: string | null;
      setAt: string;
    } | null;
  };
  if (command === "notice") {
    const n = room.notice;
    return n === null
      ? "no notice"
      : `notice (version ${n.version}, set ${n.setAt}):\n${n.text}`;
  }
  const l = room.lockdown;
  if (l === null) return "no lockdown: everyone may post";
  const who = l.scope === "all"
    ? "everyone"
    : `names claimed after ${l.since} and unclaimed names`;
  return `lockdown since ${l.setAt}: read-only for ${who}${
    l.reason === null ? "" : ` (reason: ${l.reason})`
  }`;
}

/** Runs `notice …` or `lockdown …`; null when `command` is neither. */
export async function runRoomCommand(
  command: string | undefined,
  rest: string[],
  call: Call,
  usage: string,
): Promise<number | null> {
  if (command !== "notice" && command !== "lockdown") return null;
  const request = roomRequest(command, rest);
  if (request === null) {
    console.error(usage);
    return 2;
  }
  const res = await call(request.method, request.path, request.body);
  if (res.status !== 200) {
    console.error(`${command}: ${res.status} ${reasonOf(res.text)}`);
    return 1;
  }
  console.log(describeRoom(command, res.text));
  return 0;
}
