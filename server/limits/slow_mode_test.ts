import assert from "node:assert/strict";
import type { SlowMode } from "../../protocol/events.ts";
import type {
  SlowModeSetting,
  SlowModeStore,
} from "../store/slow_mode_store.ts";
import { createSlowModeState, startAutoSlowMode } from "./slow_mode.ts";

/** A store whose current() answers what the test queues, in order. */
function fakeStore(answers: Promise<SlowModeSetting | null>[]): SlowModeStore {
  return {
    current: () => answers.shift()!,
    set: () => Promise.reject(new Error("unused")),
    clear: () => Promise.reject(new Error("unused")),
    autoCheck: () => Promise.resolve(),
  };
}

const setting = (
  seconds: number,
  until: string | null,
): SlowModeSetting => ({ seconds, until, by: "moderator", setAt: "x" });

Deno.test("slow mode state: off until refreshed, then the cached setting; every refresh tells", async () => {
  const told: (SlowMode | null)[] = [];
  const state = createSlowModeState(
    fakeStore([
      Promise.resolve(setting(10, null)),
      Promise.resolve(null),
    ]),
    (now) => told.push(now),
  );
  try {
    assert.equal(state.current(), null);
    await state.refresh();
    assert.deepEqual(state.current(), {
      seconds: 10,
      until: null,
      by: "moderator",
    });
    assert.equal(state.setting()?.setAt, "x");
    await state.refresh();
    assert.equal(state.current(), null);
    assert.deepEqual(told, [
      { seconds: 10, until: null, by: "moderator" },
      null,
    ]);
  } finally {
    state.close();
  }
});

Deno.test("slow mode state: an older read that finishes last does not overwrite a newer one", async () => {
  let finishOld!: (s: SlowModeSetting | null) => void;
  const state = createSlowModeState(fakeStore([
    new Promise((resolve) => (finishOld = resolve)),
    Promise.resolve(setting(20, null)),
  ]));
  const old = state.refresh();
  await state.refresh();
  finishOld(setting(5, null));
  await old;
  assert.equal(state.current()?.seconds, 20);
  state.close();
});

Deno.test("slow mode state: a refresh overtaken by a newer one resolves only once the newer read is in", async () => {
  let finishNew!: (s: SlowModeSetting | null) => void;
  const state = createSlowModeState(fakeStore([
    Promise.resolve(setting(5, null)),
    new Promise((resolve) => (finishNew = resolve)),
  ]));
  let seen: number | undefined | null = undefined;
  // The route's refresh (after writing) is overtaken by a notification's.
  const mine = state.refresh().then(() => {
    seen = state.current()?.seconds ?? null;
  });
  const notified = state.refresh();
  await Promise.resolve();
  finishNew(setting(30, null));
  await Promise.all([mine, notified]);
  assert.equal(seen, 30);
  state.close();
});

Deno.test("slow mode state: a timed setting ends by itself, and its end is told (no notification comes for it)", async () => {
  let ended!: () => void;
  const end = new Promise<void>((resolve) => (ended = resolve));
  const told: (SlowMode | null)[] = [];
  const until = new Date(Date.now() + 150).toISOString();
  const state = createSlowModeState(
    fakeStore([Promise.resolve(setting(10, until))]),
    (now) => {
      told.push(now);
      if (now === null) ended();
    },
  );
  try {
    await state.refresh();
    assert.equal(state.current()?.until, until);
    await end;
    assert.equal(state.current(), null);
    assert.deepEqual(told.map((t) => t?.seconds ?? null), [10, null]);
  } finally {
    state.close();
  }
});

Deno.test("slow mode state: close() stops the timer of a timed setting", async () => {
  const told: (SlowMode | null)[] = [];
  const state = createSlowModeState(
    fakeStore([Promise.resolve(setting(10, "2999-01-01T00:00:00.000Z"))]),
    (now) => told.push(now),
  );
  await state.refresh();
  // The op sanitizer fails this test if the timer outlives close().
  state.close();
  assert.equal(told.length, 1);
});

Deno.test("automatic slow mode: checks every checkMs until closed, and close waits for a check under way", async () => {
  let checks = 0;
  let finish!: () => void;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const auto = startAutoSlowMode(
    {
      autoCheck: () => {
        checks++;
        if (checks === 2) {
          started();
          return new Promise<void>((resolve) => (finish = resolve));
        }
        return Promise.resolve();
      },
    },
    { messages: 1, windowSeconds: 1, seconds: 1, holdSeconds: 1 },
    5,
    () => {},
  );
  await running;
  let closed = false;
  const closing = auto.close().then(() => (closed = true));
  await Promise.resolve();
  assert.equal(closed, false, "close waits for the check under way");
  finish();
  await closing;
  assert.equal(checks, 2);
});
