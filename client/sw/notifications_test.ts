// The service worker's push and click handling, with fakes for the worker's
// `clients`. Why a unit test for the click: headless Chromium has no
// notification UI to click, and dispatching a synthetic notificationclick
// in the worker is refused the "user clicked" permission that focus() and
// openWindow() need. So both outcomes of a click (an open window is told
// and focused, or a new one opens at the message) are checked here on the
// very function the worker's listener calls, and test/browser/pwa_push_e2e_test.ts
// checks the rest in a real browser: the push shows the notification, and
// the message a focused window is told about is scrolled to and
// highlighted.
import assert from "node:assert/strict";
import {
  type ClientsLike,
  notificationFromPush,
  OPEN_MESSAGE,
  openFromNotification,
  sameOriginPath,
  type WindowLike,
} from "./notifications.ts";

const ORIGIN = "https://plaza.example";
const ICONS = {
  icon: "/assets/icon-192-x.png",
  badge: "/assets/badge-96-x.png",
};

Deno.test("a push's JSON becomes the notification: title, body, tag and the message's URL", () => {
  const { title, options } = notificationFromPush(
    {
      title: "3 new messages from ada, bob",
      body: "ada: see you at 7",
      tag: "plaza-messages",
      url: "/m/42",
      messageId: 42,
    },
    ORIGIN,
    ICONS,
  );
  assert.equal(title, "3 new messages from ada, bob");
  assert.equal(options.body, "ada: see you at 7");
  assert.equal(options.tag, "plaza-messages");
  assert.deepEqual(options.data, { url: "/m/42" });
  assert.equal(options.icon, ICONS.icon);
  assert.equal(options.badge, ICONS.badge);
});

Deno.test("a push without a URL opens its message; without anything usable, the room", () => {
  assert.equal(
    notificationFromPush({ title: "hi", messageId: 7 }, ORIGIN, ICONS).options
      .data.url,
    "/m/7",
  );
  for (const payload of [null, "text", 12, [], { title: 5, body: {} }]) {
    const { title, options } = notificationFromPush(payload, ORIGIN, ICONS);
    assert.equal(title, "New messages in Plaza");
    assert.equal(options.body, "");
    assert.equal(options.tag, undefined);
    assert.equal(options.data.url, "/");
  }
});

Deno.test("only Plaza's own pages are opened", () => {
  assert.equal(sameOriginPath("/#message-1", ORIGIN), "/#message-1");
  assert.equal(
    sameOriginPath(`${ORIGIN}/?x=1#message-2`, ORIGIN),
    "/?x=1#message-2",
  );
  for (
    const bad of [
      "https://evil.example/#message-1",
      "//evil.example/",
      "javascript:alert(1)",
      "http://plaza.example/",
      42,
      undefined,
    ]
  ) {
    assert.equal(sameOriginPath(bad, ORIGIN), "/", String(bad));
  }
});

/** Fake windows and clients that record what the click did. */
function fakeClients(urls: string[], focusedIndex = -1) {
  const log: string[] = [];
  const windows: WindowLike[] = urls.map((url, i) => ({
    url,
    focused: i === focusedIndex,
    postMessage: (m) => log.push(`message ${i} ${JSON.stringify(m)}`),
    focus: () => {
      log.push(`focus ${i}`);
      return Promise.resolve();
    },
  }));
  const clients: ClientsLike = {
    matchAll: (options) => {
      assert.deepEqual(options, { type: "window", includeUncontrolled: true });
      return Promise.resolve(windows);
    },
    openWindow: (url) => {
      log.push(`open ${url}`);
      return Promise.resolve(null);
    },
  };
  return { clients, log };
}

Deno.test("a click with Plaza open tells that window which message to show and focuses it", async () => {
  const { clients, log } = fakeClients([`${ORIGIN}/`]);
  await openFromNotification(clients, { url: "/#message-42" }, ORIGIN);
  assert.deepEqual(log, [
    `message 0 ${JSON.stringify({ type: OPEN_MESSAGE, url: "/#message-42" })}`,
    "focus 0",
  ]);
});

Deno.test("a click prefers the focused Plaza window and ignores other sites' windows", async () => {
  const { clients, log } = fakeClients(
    ["https://other.example/", `${ORIGIN}/`, `${ORIGIN}/#message-3`],
    2,
  );
  await openFromNotification(clients, { url: "/#message-5" }, ORIGIN);
  assert.deepEqual(log, [
    `message 2 ${JSON.stringify({ type: OPEN_MESSAGE, url: "/#message-5" })}`,
    "focus 2",
  ]);
});

Deno.test("a click with no Plaza window open opens one at the message", async () => {
  const { clients, log } = fakeClients(["https://other.example/"]);
  await openFromNotification(clients, { url: "/#message-9" }, ORIGIN);
  assert.deepEqual(log, ["open /#message-9"]);

  const none = fakeClients([]);
  await openFromNotification(
    none.clients,
    { url: "https://evil.example/" },
    ORIGIN,
  );
  assert.deepEqual(none.log, ["open /"]);
});
