import assert from "node:assert/strict";
import {
  type ChannelLike,
  joinTabs,
  LEADER_LOCK,
  type LocksLike,
} from "./tab_leader.ts";

/** Web Locks and a BroadcastChannel for several "tabs" in one test. */
function fakeBrowser() {
  const waiting: (() => void)[] = [];
  let held = false;
  const locks: LocksLike = {
    request(name, options, callback) {
      assert.equal(name, LEADER_LOCK);
      if (!held) {
        held = true;
        return Promise.resolve(callback({ name }));
      }
      if (options.ifAvailable) return Promise.resolve(callback(null));
      waiting.push(() => void callback({ name }));
      return new Promise(() => {});
    },
  };
  const channels: ChannelLike[] = [];
  const channel = (): ChannelLike => {
    const self: ChannelLike = {
      onmessage: null,
      postMessage(message) {
        for (const other of channels) {
          if (other !== self) {
            other.onmessage?.(new MessageEvent("message", { data: message }));
          }
        }
      },
    };
    channels.push(self);
    return self;
  };
  /** The leader tab closed: the lock passes to the longest waiting tab. */
  const closeLeader = (leader: ChannelLike) => {
    channels.splice(channels.indexOf(leader), 1);
    waiting.shift()?.();
  };
  return { locks, channel, closeLeader };
}

function tab(
  browser: ReturnType<typeof fakeBrowser>,
  name: string,
  log: string[],
) {
  const channel = browser.channel();
  const relay = joinTabs(
    (type, data) => log.push(`${name} got ${type} ${data}`),
    () => log.push(`${name} leads`),
    () => log.push(`${name} follows`),
    browser.locks,
    channel,
  );
  return { relay, channel };
}

Deno.test("the first tab leads, others follow and hear what it relays; one takes over", async () => {
  const browser = fakeBrowser();
  const log: string[] = [];
  const a = tab(browser, "a", log);
  const _b = tab(browser, "b", log);
  const _c = tab(browser, "c", log);
  await Promise.resolve();
  assert.deepEqual(log, ["a leads", "b follows", "c follows"]);

  log.length = 0;
  a.relay("message", "{}");
  assert.deepEqual(log, ["b got message {}", "c got message {}"]);

  log.length = 0;
  browser.closeLeader(a.channel);
  assert.deepEqual(log, ["b leads"]);
});

Deno.test("without Web Locks (plain http) every tab streams for itself", async () => {
  const log: string[] = [];
  const relay = joinTabs(
    () => log.push("relay"),
    () => log.push("leads"),
    () => log.push("follows"),
    null,
  );
  assert.deepEqual(log, []); // later, so the caller holds relay first
  await Promise.resolve();
  assert.deepEqual(log, ["leads"]);
  relay("message", "{}");
  assert.deepEqual(log, ["leads"]);
});

Deno.test("where the browser refuses the lock (a frame on another site with its storage blocked), the tab streams for itself", async () => {
  const locks: LocksLike = {
    request: () =>
      Promise.reject(
        new DOMException("The request was denied.", "SecurityError"),
      ),
  };
  const led = Promise.withResolvers<void>();
  joinTabs(() => {}, led.resolve, () => assert.fail("no tab leads"), locks, {
    onmessage: null,
    postMessage() {},
  });
  await led.promise;
});
