import assert from "node:assert/strict";
import {
  createPushControl,
  fromBase64Url,
  type NotifyState,
  type PushEnv,
  type PushManagerLike,
  reportVisibility,
  type SubscriptionLike,
  toBase64Url,
  VISIBLE_EVERY_MS,
} from "./push.ts";
import { withDeadline } from "../../test/harness/wait.ts";

const KEY = toBase64Url(new Uint8Array(65).fill(4).buffer);
const OTHER_KEY = toBase64Url(new Uint8Array(65).fill(9).buffer);

interface Call {
  method: string;
  url: string;
  body: unknown;
}

/** A browser and a server, both fake, that record what the control did. */
function fakeWorld(options: {
  permission?: NotificationPermission;
  answer?: NotificationPermission;
  existing?: string | null;
  routes?: Partial<Record<string, number>>;
  subscribeFails?: boolean;
} = {}) {
  const calls: Call[] = [];
  const log: string[] = [];
  let permission = options.permission ?? "default";
  let current: SubscriptionLike | null = null;
  const makeSub = (endpoint: string, key: string): SubscriptionLike => ({
    endpoint,
    options: { applicationServerKey: fromBase64Url(key).buffer },
    toJSON: () => ({ endpoint, keys: { p256dh: "p", auth: "a" } }),
    unsubscribe: () => {
      log.push(`unsubscribe ${endpoint}`);
      current = null;
      return Promise.resolve(true);
    },
  });
  if (options.existing) {
    current = makeSub("https://push.test/old", options.existing);
  }
  const manager: PushManagerLike = {
    getSubscription: () => Promise.resolve(current),
    subscribe: (o) => {
      assert.equal(o.userVisibleOnly, true);
      log.push(`subscribe ${toBase64Url(o.applicationServerKey.buffer)}`);
      if (options.subscribeFails) {
        return Promise.reject(
          new DOMException("no push service", "AbortError"),
        );
      }
      current = makeSub(
        "https://push.test/new",
        toBase64Url(o.applicationServerKey.buffer),
      );
      return Promise.resolve(current);
    },
  };
  const env: PushEnv = {
    fetch: (url, init) => {
      const method = init?.method ?? "GET";
      calls.push({
        method,
        url,
        body: init?.body ? JSON.parse(String(init.body)) : undefined,
      });
      const status = options.routes?.[`${method} ${url}`] ??
        (url === "/push/key" ? 200 : method === "POST" ? 201 : 204);
      const body = url === "/push/key" && status === 200
        ? JSON.stringify({ publicKey: KEY })
        : status === 201
        ? JSON.stringify({ ok: true })
        : status === 204
        ? null
        : JSON.stringify({ error: "no" });
      return Promise.resolve(new Response(body, { status }));
    },
    pushManager: () => Promise.resolve(manager),
    permission: () => permission,
    requestPermission: () => {
      log.push("requestPermission");
      permission = options.answer ?? "granted";
      return Promise.resolve(permission);
    },
  };
  const states: [NotifyState, string | undefined][] = [];
  let name: string | null = "ada";
  const control = createPushControl(
    env,
    () => name,
    (s, note) => states.push([s, note]),
  );
  return {
    control,
    calls,
    log,
    states,
    last: () => states.at(-1),
    rename: (n: string) => (name = n),
    subscription: () => current,
  };
}

Deno.test("base64url round-trips bytes", () => {
  const bytes = new Uint8Array([0, 251, 255, 62, 63, 1, 2]);
  assert.deepEqual(fromBase64Url(toBase64Url(bytes.buffer)), bytes);
  assert.doesNotMatch(toBase64Url(bytes.buffer), /[+/=]/);
});

Deno.test("at start: off without a subscription, and no permission is asked", async () => {
  const w = fakeWorld();
  await w.control.init();
  assert.deepEqual(w.states, [["checking", undefined], ["off", undefined]]);
  assert.deepEqual(w.calls.map((c) => `${c.method} ${c.url}`), [
    "GET /push/key",
  ]);
  assert.deepEqual(w.log, []);
});

Deno.test("at start: blocked when the browser denied notifications", async () => {
  const w = fakeWorld({ permission: "denied" });
  await w.control.init();
  assert.deepEqual(w.last(), ["blocked", undefined]);
  assert.deepEqual(w.calls, []);
});

Deno.test("at start: unavailable when the server has no push endpoints (404)", async () => {
  const w = fakeWorld({ routes: { "GET /push/key": 404 } });
  await w.control.init();
  assert.deepEqual(w.last(), ["unavailable", undefined]);
});

Deno.test("at start: a live subscription is sent again with the current name, and is on", async () => {
  const w = fakeWorld({ permission: "granted", existing: KEY });
  await w.control.init();
  assert.deepEqual(w.last(), ["on", undefined]);
  assert.deepEqual(w.calls.at(-1), {
    method: "POST",
    url: "/push/subscriptions",
    body: {
      subscription: {
        endpoint: "https://push.test/old",
        keys: { p256dh: "p", auth: "a" },
      },
      name: "ada",
    },
  });
  assert.equal(w.control.endpoint(), "https://push.test/old");
});

Deno.test("at start: a subscription to an old server key is replaced by one to the new key", async () => {
  const w = fakeWorld({ permission: "granted", existing: OTHER_KEY });
  await w.control.init();
  assert.deepEqual(w.log, [
    "unsubscribe https://push.test/old",
    `subscribe ${KEY}`,
  ]);
  assert.deepEqual(w.last(), ["on", undefined]);
  assert.equal(w.control.endpoint(), "https://push.test/new");
});

Deno.test("Notify me: asks permission first, subscribes with the server's key, stores it, on", async () => {
  const w = fakeWorld();
  await w.control.init();
  await w.control.turnOn();
  assert.deepEqual(w.log, ["requestPermission", `subscribe ${KEY}`]);
  assert.deepEqual(w.last(), ["on", undefined]);
  const post = w.calls.at(-1)!;
  assert.equal(post.url, "/push/subscriptions");
  assert.deepEqual(post.body, {
    subscription: {
      endpoint: "https://push.test/new",
      keys: { p256dh: "p", auth: "a" },
    },
    name: "ada",
  });

  // A new name goes to the server with the same subscription.
  w.rename("ada lovelace");
  await w.control.resend();
  assert.deepEqual(
    (w.calls.at(-1)!.body as { name: string }).name,
    "ada lovelace",
  );
});

Deno.test("Notify me: a refused or dismissed prompt does not subscribe", async () => {
  const denied = fakeWorld({ answer: "denied" });
  await denied.control.turnOn();
  assert.deepEqual(denied.last(), ["blocked", undefined]);
  assert.deepEqual(denied.log, ["requestPermission"]);

  const dismissed = fakeWorld({ answer: "default" });
  await dismissed.control.turnOn();
  assert.deepEqual(dismissed.last(), [
    "off",
    "Notifications need your permission.",
  ]);
  assert.deepEqual(dismissed.log, ["requestPermission"]);
});

Deno.test("Notify me: a server without push says unavailable and keeps no subscription", async () => {
  const w = fakeWorld({ routes: { "POST /push/subscriptions": 404 } });
  await w.control.turnOn();
  assert.deepEqual(w.last(), ["unavailable", undefined]);
  assert.deepEqual(w.log, [
    "requestPermission",
    `subscribe ${KEY}`,
    "unsubscribe https://push.test/new",
  ]);
  assert.equal(w.control.endpoint(), null);
});

Deno.test("Notify me: a failing push service or server leaves it off, with a reason", async () => {
  const noService = fakeWorld({ subscribeFails: true });
  await noService.control.turnOn();
  assert.deepEqual(noService.last(), [
    "off",
    "This browser could not turn notifications on.",
  ]);

  const serverDown = fakeWorld({ routes: { "POST /push/subscriptions": 503 } });
  await serverDown.control.turnOn();
  assert.deepEqual(serverDown.last(), ["off", "Could not reach the server."]);
  assert.equal(serverDown.subscription(), null);
});

Deno.test("turning off deletes the subscription on the server and in the browser", async () => {
  const w = fakeWorld({ permission: "granted", existing: KEY });
  await w.control.init();
  await w.control.turnOff();
  assert.deepEqual(w.calls.at(-1), {
    method: "DELETE",
    url: "/push/subscriptions",
    body: { endpoint: "https://push.test/old" },
  });
  assert.deepEqual(w.log, ["unsubscribe https://push.test/old"]);
  assert.deepEqual(w.last(), ["off", undefined]);
  assert.equal(w.control.endpoint(), null);
});

Deno.test("visibility: reported on change, every 20 s while visible, hidden on pagehide; a 404 means the server lost the subscription", async () => {
  const sent: unknown[] = [];
  let status = 204;
  let hidden = false;
  let lost = 0;
  let onLost = () => {};
  const page = new EventTarget();
  const doc = new EventTarget();
  let tick = () => {};
  let endpoint: string | null = null;
  const report = reportVisibility(
    {
      fetch: (_url, init) => {
        sent.push(JSON.parse(String(init?.body)));
        assert.equal(init?.keepalive, true);
        return Promise.resolve(new Response(null, { status }));
      },
    },
    () => endpoint,
    "tab-1",
    () => hidden,
    () => {
      lost++;
      onLost();
    },
    page,
    doc,
    (fn, ms) => {
      assert.equal(ms, VISIBLE_EVERY_MS);
      tick = fn;
    },
  );
  // Not subscribed: nothing goes out.
  report();
  tick();
  assert.deepEqual(sent, []);

  endpoint = "https://push.test/e";
  report();
  tick();
  hidden = true;
  doc.dispatchEvent(new Event("visibilitychange"));
  tick(); // hidden: no refresh
  page.dispatchEvent(new Event("pagehide"));
  const e = endpoint;
  assert.deepEqual(sent, [
    { endpoint: e, tab: "tab-1", visible: true },
    { endpoint: e, tab: "tab-1", visible: true },
    { endpoint: e, tab: "tab-1", visible: false },
    { endpoint: e, tab: "tab-1", visible: false },
  ]);

  status = 404;
  hidden = false;
  const told = new Promise<void>((resolve) => (onLost = resolve));
  report();
  await withDeadline(told, 1_000, "lost() after a 404");
  assert.equal(lost, 1);
});
