// Muting a name on this device: its messages and typing are hidden (the
// rest of the room is not), unmuting shows them again, "Ada" and "ada" are
// one name, and the choice survives a reload.
import assert from "node:assert/strict";
import type { Message } from "../protocol/message.ts";
import { createChatState, MUTED_KEY, type NameStorage } from "./chat_state.ts";

function memoryStorage() {
  const data = new Map<string, string>();
  const storage: NameStorage = {
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
  };
  return { storage, data };
}

const message = (id: number, author: string, text = `m${id}`): Message => ({
  id,
  author,
  text,
  clientId: null,
  createdAt: new Date(id * 1000).toISOString(),
  verified: false,
});

const authors = (state: ReturnType<typeof createChatState>) =>
  state.messages.value.map((m) => `${m.id}:${m.author}`);

Deno.test("mute hides a name's messages, old and new, in any case; unmute shows them again", () => {
  const { storage } = memoryStorage();
  const state = createChatState(storage, fetch, 0, 60_000);
  state.receiveMessage(message(1, "Ada"));
  state.receiveMessage(message(2, "bob"));
  state.mute("ada");
  assert.deepEqual(authors(state), ["2:bob"]);
  assert.deepEqual(state.muted.value, ["ada"]);
  state.receiveMessage(message(3, "ADA"));
  state.receiveMessage(message(4, "bob"));
  assert.deepEqual(authors(state), ["2:bob", "4:bob"]);
  // Muting again (another spelling) changes nothing.
  state.mute("Ada");
  assert.deepEqual(state.muted.value, ["ada"]);
  state.unmute("Ada");
  assert.deepEqual(state.muted.value, []);
  assert.deepEqual(authors(state), ["1:Ada", "2:bob", "3:ADA", "4:bob"]);
});

Deno.test("a muted name's typing is hidden, and comes back on unmute while it lasts", () => {
  const state = createChatState(null, fetch, 0, 60_000);
  state.noteTyping("Ada");
  state.noteTyping("bob");
  state.mute("ADA");
  assert.deepEqual(state.typing.value, ["bob"]);
  state.noteTyping("ada");
  assert.deepEqual(state.typing.value, ["bob"]);
  state.unmute("ada");
  assert.deepEqual(state.typing.value, ["Ada", "bob", "ada"]);
  // Typing ends with a message; nothing is left running.
  for (const m of ["Ada", "bob", "ada"]) {
    state.receiveMessage(message(state.newestId() + 1, m));
  }
  assert.deepEqual(state.typing.value, []);
});

Deno.test("a muted name's messages do not count as unread", () => {
  const state = createChatState(null, fetch, 0, 60_000);
  state.receiveMessage(message(1, "bob"));
  state.mute("spammer");
  state.setFollowing(false);
  state.receiveMessage(message(2, "Spammer", "@me hello"));
  assert.equal(state.unread.value, 0);
  state.receiveMessage(message(3, "bob"));
  assert.equal(state.unread.value, 1);
});

Deno.test("muted names persist: a new state on the same storage starts with them; junk stored mutes nobody", () => {
  const { storage, data } = memoryStorage();
  const first = createChatState(storage, fetch, 0, 60_000);
  first.mute("Ada");
  first.mute("Bob");
  first.unmute("bob");
  assert.equal(data.get(MUTED_KEY), '["Ada"]');
  const reloaded = createChatState(storage, fetch, 0, 60_000);
  assert.deepEqual(reloaded.muted.value, ["Ada"]);
  reloaded.receiveMessage(message(1, "ada"));
  assert.deepEqual(authors(reloaded), []);

  // Another tab unmutes: a storage event brings it here.
  first.unmute("Ada");
  reloaded.syncOutbox();
  assert.deepEqual(authors(reloaded), ["1:ada"]);

  for (const junk of ["{", '{"a":1}', "7", '[1,"x"]']) {
    data.set(MUTED_KEY, junk);
    const state = createChatState(storage, fetch, 0, 60_000);
    assert.deepEqual(state.muted.value, junk === '[1,"x"]' ? ["x"] : []);
  }
});
