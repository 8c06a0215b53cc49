/**
 * The generator of ban requests: POST, GET and DELETE /moderation/bans with
 * and without the admin token, with good and broken bodies. The bans it
 * makes never cover the fuzzer itself: names no other generator posts under
 * and addresses in the documentation ranges, never 127.0.0.1 or ::1.
 *
 * Also GET, PUT and DELETE /moderation/slow-mode. The PUTs that succeed only
 * turn slow mode off (seconds 0): slow mode on would refuse the fuzzer's
 * later posts with 429s the post oracle rightly counts as failures. Setting
 * it is tested in server/http/slow_mode_routes_test.ts.
 */
import { bytesOf } from "./bytes.ts";
import type { Case, GenContext, Route } from "./cases.ts";
import type { Rng } from "./rng.ts";

/** Authorization headers that are never the admin token. */
// deno-fmt-ignore
const BAD_AUTHORIZATIONS = [
  "", "Bearer", "Bearer ", "Bearer x", "Basic YWRtaW46YWRtaW4=",
  "Bearer a b", "Bearer " + "a".repeat(64), "Token 0123456789abcdef",
];
/** Addresses and ranges a ban may name: none covers the loopback. */
// deno-fmt-ignore
const SAFE_ADDRESSES = [
  "192.0.2.7", "192.0.2.0/24", "198.51.100.0/25", "203.0.113.9/32",
  "2001:db8::1", "2001:db8::/32", " 192.0.2.8 ", "::ffff:192.0.2.9",
];
/** Bodies a moderator's POST refuses with a 400. */
// deno-fmt-ignore
const BAD_BODIES: readonly unknown[] = [
  {}, [], null, "text", 7, true, { name: "" }, { name: 7 }, { name: null },
  { address: "not an ip" }, { address: "10.0.0.0/33" }, { address: "1.2.3.4/" },
  { address: "::1/129" }, { address: "fe80::1%eth0" }, { address: 5 },
  { address: "1".repeat(100) }, { name: "zq-x", address: "192.0.2.1" },
  { name: "zq-x", durationSeconds: 0 }, { name: "zq-x", durationSeconds: -5 },
  { name: "zq-x", durationSeconds: 1.5 }, { name: "zq-x", durationSeconds: "1h" },
  { name: "zq-x", durationSeconds: 1e12 }, { name: "zq-x", reason: 5 },
  { name: "zq-x", reason: "r".repeat(501) }, { name: "zq-x", reason: "a\u0000b" },
  { name: "zq-x", removeRecentMessages: "yes" },
  { address: "192.0.2.1", removeRecentMessages: true },
  { name: "zq-x", extra: 1 }, { name: "x".repeat(33) }, { name: "a\u0007b" },
  { ["__proto__"]: { name: "zq-x" } },
];
/** Raw bodies that are not JSON at all (still a 400). */
const BROKEN_JSON = ["{", '{"name":', "\u00ff", '{"name":"zq"}}', ""];
/** Ids the server cannot parse: with the right token, a 400. */
// deno-fmt-ignore
const UNPARSABLE_IDS = ["abc", "-1", "1.5", "0x10", "%00", "%20", "1".repeat(17)];

/** PUT /moderation/slow-mode bodies refused with a 400. */
// deno-fmt-ignore
const BAD_SLOW_MODE_BODIES: readonly unknown[] = [
  {}, [], null, "text", 7, { seconds: -1 }, { seconds: 3601 }, { seconds: 1.5 },
  { seconds: "soon" }, { seconds: true }, { seconds: null }, { seconds: 1e12 },
  { seconds: 10, minutes: 0 }, { seconds: 10, minutes: -3 },
  { seconds: 10, minutes: 10081 }, { seconds: 10, minutes: "1h" },
  { seconds: 10, extra: 1 }, { ["__proto__"]: { seconds: 10 } },
];

/** A body for a ban that the server accepts (201). */
function goodBan(g: Rng): Record<string, unknown> {
  const body: Record<string, unknown> = g.chance(0.5)
    ? { name: `zq-banned-${g.int(1, 50)}` }
    : { address: g.pick(SAFE_ADDRESSES) };
  if (g.chance(0.5)) body.durationSeconds = g.int(1, 100_000);
  if (g.chance(0.4)) body.reason = g.pick(["spam", "", "flooding 🌊", "x"]);
  if (body.name !== undefined && g.chance(0.3)) {
    body.removeRecentMessages = g.chance(0.5);
  }
  return body;
}

/** One request to the moderation routes, with the statuses it may get. */
export function genModeration(g: Rng, ctx: GenContext): Case {
  const op = g.weighted(
    [["post", 5], ["get", 1], ["delete", 2], ["slow", 3]] as const,
  );
  const auth = g.weighted(
    [["none", 2], ["bad", 2], ["good", 6]] as const,
  );
  const headers: [string, string][] = [];
  let authExpect: number[] | null = null;
  if (auth === "none") {
    authExpect = [401];
  } else if (auth === "bad") {
    const value = g.chance(0.3)
      ? `Bearer ${ctx.adminToken}x`
      : g.pick(BAD_AUTHORIZATIONS);
    headers.push(["Authorization", value]);
    authExpect = /^Bearer\s+\S+\s*$/i.test(value.trim()) ? [403] : [401];
  } else {
    headers.push(["Authorization", `Bearer ${ctx.adminToken}`]);
  }
  let route: Route;
  let method: string;
  let target = "/moderation/bans";
  let body: string | undefined;
  let expect: number[];
  if (op === "slow") {
    [route, method, target, body, expect] = slowModeRequest(g);
    if (body !== undefined) {
      const type = body.startsWith("seconds=")
        ? "application/x-www-form-urlencoded"
        : expect[0] === 415
        ? g.pick(["text/plain", "application/xml"])
        : "application/json";
      headers.push(["Content-Type", type]);
    }
  } else if (op === "get") {
    route = "GET /moderation/bans";
    method = "GET";
    expect = [200];
  } else if (op === "delete") {
    route = "DELETE /moderation/bans/:id";
    method = "DELETE";
    const bad = g.chance(0.4);
    target += `/${bad ? g.pick(UNPARSABLE_IDS) : g.int(1, 200)}`;
    expect = bad ? [400] : [204, 404];
  } else {
    route = "POST /moderation/bans";
    method = "POST";
    const shape = g.weighted(
      [["good", 3], ["bad", 5], ["broken", 1], ["form", 1], [
        "type",
        1,
      ]] as const,
    );
    let type = "application/json";
    if (shape === "good") {
      body = JSON.stringify(goodBan(g));
      expect = [201];
    } else if (shape === "bad") {
      body = JSON.stringify(g.pick(BAD_BODIES));
      expect = [400];
    } else if (shape === "broken") {
      body = g.pick(BROKEN_JSON);
      expect = [400];
    } else if (shape === "form") {
      type = "application/x-www-form-urlencoded";
      const good = g.chance(0.5);
      body = good
        ? `name=zq-banned-${g.int(1, 50)}&durationSeconds=${g.int(1, 999)}`
        : g.pick(["", "name=", "address=nope", "name=zq&address=192.0.2.1"]);
      expect = good ? [201] : [400];
    } else {
      type = g.pick(["text/plain", "application/xml", "multipart/form-data"]);
      body = JSON.stringify(goodBan(g));
      expect = [415];
    }
    headers.push(["Content-Type", type]);
  }
  return {
    via: "fetch",
    kind: "moderation",
    route,
    // The token is checked before anything else.
    expect: authExpect ?? expect,
    method,
    target,
    headers,
    body: body === undefined ? undefined : bytesOf(body),
  };
}

/** POST /reports bodies refused with a 400. */
// deno-fmt-ignore
const BAD_REPORTS: readonly unknown[] = [
  {}, [], null, "text", 7, { messageId: 0 }, { messageId: -1 },
  { messageId: 1.5 }, { messageId: "1x" }, { messageId: "" }, { messageId: 1e300 },
  { messageId: true }, { messageId: [1] }, { messageId: { id: 1 } },
  { messageId: 1, reason: 5 }, { messageId: 1, reason: "r".repeat(501) },
  { messageId: 1, reason: "two\nlines" }, { messageId: 1, reason: "a\u009b[2J" },
  { messageId: 1, name: "" }, { messageId: 1, name: "x".repeat(33) },
  { messageId: 1, name: "a\u0007b" }, { messageId: 1, extra: 1 },
  { ["__proto__"]: { messageId: 1 } },
];

/**
 * One request to the report routes: POST /reports from anyone (good ids
 * may or may not exist), and the moderators' GET and DELETE
 * /moderation/reports with and without the admin token.
 */
export function genReport(g: Rng, ctx: GenContext): Case {
  const op = g.weighted([["post", 6], ["get", 1], ["delete", 2]] as const);
  const headers: [string, string][] = [];
  if (op === "post") {
    const shape = g.weighted(
      [["good", 4], ["bad", 4], ["broken", 1], ["form", 2], [
        "type",
        1,
      ]] as const,
    );
    let type = "application/json";
    let body: string;
    let expect: number[];
    const id = g.int(1, 300);
    if (shape === "good") {
      const report: Record<string, unknown> = {
        messageId: g.chance(0.2) ? String(id) : id,
      };
      if (g.chance(0.5)) {
        report.reason = g.pick(["spam", "", "  ", "rude 😠", "x".repeat(500)]);
      }
      if (g.chance(0.3)) report.name = `zq-reporter-${g.int(1, 9)}`;
      body = JSON.stringify(report);
      // 200: this address already has the message's report open.
      expect = [200, 201, 404];
    } else if (shape === "bad") {
      body = JSON.stringify(g.pick(BAD_REPORTS));
      expect = [400];
    } else if (shape === "broken") {
      body = g.pick(BROKEN_JSON);
      expect = [400];
    } else if (shape === "form") {
      type = "application/x-www-form-urlencoded";
      const good = g.chance(0.5);
      body = good
        ? `messageId=${id}&reason=${g.pick(["spam", "%F0%9F%98%A0", ""])}`
        : g.pick([
          "",
          "messageId=",
          "messageId=abc",
          "reason=x",
          "messageId=1%0A",
        ]);
      expect = good ? [200, 201, 404] : [400];
    } else {
      type = g.pick(["text/plain", "application/xml", "multipart/form-data"]);
      body = JSON.stringify({ messageId: id });
      expect = [415];
    }
    headers.push(["Content-Type", type]);
    return {
      via: "fetch",
      kind: "report",
      route: "POST /reports",
      expect,
      method: "POST",
      target: "/reports",
      headers,
      body: bytesOf(body),
    };
  }
  const auth = g.weighted([["none", 1], ["bad", 1], ["good", 4]] as const);
  let authExpect: number[] | null = null;
  if (auth === "none") {
    authExpect = [401];
  } else if (auth === "bad") {
    const value = g.pick(BAD_AUTHORIZATIONS);
    headers.push(["Authorization", value]);
    authExpect = /^Bearer\s+\S+\s*$/i.test(value.trim()) ? [403] : [401];
  } else {
    headers.push(["Authorization", `Bearer ${ctx.adminToken}`]);
  }
  if (op === "get") {
    return {
      via: "fetch",
      kind: "report",
      route: "GET /moderation/reports",
      expect: authExpect ?? [200],
      method: "GET",
      target: "/moderation/reports",
      headers,
    };
  }
  const bad = g.chance(0.4);
  return {
    via: "fetch",
    kind: "report",
    route: "DELETE /moderation/reports/:id",
    expect: authExpect ?? (bad ? [400] : [204, 404]),
    method: "DELETE",
    target: `/moderation/reports/${
      bad ? g.pick(UNPARSABLE_IDS) : g.int(1, 200)
    }`,
    headers,
  };
}

/** One slow-mode request (with the right token): route, method, target, body and the statuses it may get. */
function slowModeRequest(
  g: Rng,
): [Route, string, string, string | undefined, number[]] {
  const target = "/moderation/slow-mode";
  const op = g.weighted([["get", 2], ["put", 6], ["delete", 2]] as const);
  if (op === "get") {
    return ["GET /moderation/slow-mode", "GET", target, undefined, [200]];
  }
  if (op === "delete") {
    return ["DELETE /moderation/slow-mode", "DELETE", target, undefined, [200]];
  }
  const shape = g.weighted(
    [["off", 2], ["bad", 5], ["broken", 1], ["form", 1], ["type", 1]] as const,
  );
  const put = "PUT /moderation/slow-mode";
  if (shape === "off") {
    const off: Record<string, unknown> = { seconds: g.pick([0, "0"]) };
    if (g.chance(0.3)) off.minutes = g.int(1, 10080);
    return [put, "PUT", target, JSON.stringify(off), [200]];
  }
  if (shape === "bad") {
    return [put, "PUT", target, JSON.stringify(g.pick(BAD_SLOW_MODE_BODIES)), [
      400,
    ]];
  }
  if (shape === "broken") {
    return [put, "PUT", target, g.pick(BROKEN_JSON), [400]];
  }
  if (shape === "form") {
    const good = g.chance(0.5);
    const body = good ? "seconds=0" : g.pick([
      "seconds=",
      "seconds=x",
      "seconds=-1",
      "seconds=9999",
      "seconds=0&minutes=0",
    ]);
    return [put, "PUT", target, body, good ? [200] : [400]];
  }
  return [put, "PUT", target, '{"seconds":0}', [415]];
}
