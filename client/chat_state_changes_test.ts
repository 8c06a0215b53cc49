import assert from "node:assert/strict";
import { type Message, REPLY_QUOTE_LENGTH } from "../protocol/message.ts";
import { createChatState } from "./chat_state.ts";
import { until } from "../test/harness/wait.ts";

function message(id: number, extra: Partial<Message> = {}): Message {
  return {
    id,
    author: "ann",
    text: `hello ${id}`,
    createdAt: new Date(id * 1000).toISOString(),
    clientId: null,
    verified: false,
    editedAt: null,
    replyTo: null,
    reactions: [],
    ...extra,
  };
}

Deno.test("an edit replaces the message and the quotes of it in replies", () => {
  const chat = createChatState();
  chat.receiveMessage(message(1));
  chat.receiveMessage(
    message(2, { replyTo: { id: 1, author: "ann", text: "hello 1" } }),
  );
  const other = message(3, { replyTo: { id: 9, author: "bo", text: "x" } });
  chat.receiveMessage(other);
  const long = "é".repeat(REPLY_QUOTE_LENGTH + 5);
  const edited = message(1, {
    text: long,
    editedAt: new Date(5000).toISOString(),
  });
  chat.editMessage(edited);
  const [first, reply, third] = chat.messages.value;
  assert.equal(first, edited);
  assert.deepEqual(reply.replyTo, {
    id: 1,
    author: "ann",
    text: "é".repeat(REPLY_QUOTE_LENGTH) + "…",
  });
  // Messages the edit does not touch stay the same object.
  assert.equal(third, other);
  chat.editMessage(message(1, { text: "short" }));
  assert.equal(chat.messages.value[1].replyTo?.text, "short");
});

Deno.test("an edit of a message not shown adds nothing", () => {
  const chat = createChatState();
  chat.receiveMessage(message(1));
  chat.editMessage(message(7));
  assert.deepEqual(chat.messages.value.map((m) => m.id), [1]);
});

Deno.test("a reaction event replaces that message's reactions only", () => {
  const chat = createChatState();
  chat.receiveMessage(message(1));
  chat.receiveMessage(message(2));
  chat.setReactions(2, [{ emoji: "👍", count: 2, names: ["ann", "bo"] }]);
  chat.setReactions(2, [{ emoji: "🎉", count: 1, names: ["bo"] }]);
  assert.deepEqual(chat.messages.value[1].reactions, [
    { emoji: "🎉", count: 1, names: ["bo"] },
  ]);
  assert.deepEqual(chat.messages.value[0].reactions, []);
});

Deno.test("a preview event sets that message's preview, and null takes it away", () => {
  const chat = createChatState();
  chat.receiveMessage(message(1));
  chat.receiveMessage(message(2));
  const preview = {
    url: "https://site.test/",
    title: "Site",
    description: null,
    image: null,
    site: null,
  };
  chat.setPreview(2, preview);
  assert.deepEqual(chat.messages.value[1].preview, preview);
  assert.equal(chat.messages.value[0].preview, undefined);
  chat.setPreview(2, null);
  assert.equal(chat.messages.value[1].preview, null);
});

Deno.test("a delete removes the message and empties the quotes of it", () => {
  const chat = createChatState();
  chat.receiveMessage(message(1));
  chat.receiveMessage(
    message(2, { replyTo: { id: 1, author: "ann", text: "hello 1" } }),
  );
  chat.removeMessage(1);
  assert.deepEqual(chat.messages.value.map((m) => m.id), [2]);
  assert.deepEqual(chat.messages.value[0].replyTo, {
    id: 1,
    author: null,
    text: null,
  });
});

Deno.test("a send made while replying carries the reply's id, once", async () => {
  const forms: Record<string, string>[] = [];
  const chat = createChatState(null, (url, init) => {
    const form = Object.fromEntries(init.body as URLSearchParams);
    if (url === "/messages") forms.push(form);
    const body = url === "/names"
      ? { token: "t" }
      : message(forms.length + 10, { ...form, replyTo: null });
    return Promise.resolve(new Response(JSON.stringify(body), { status: 201 }));
  }, 0);
  chat.setName("ann");
  chat.receiveMessage(message(1));
  chat.setReplyTo(chat.messages.value[0]);
  assert.equal(chat.replyTo.value?.id, 1);
  chat.sendMessage("answer");
  assert.equal(chat.replyTo.value, null);
  chat.sendMessage("not an answer");
  await until(() => forms.length === 2);
  assert.deepEqual(forms.map((f) => f.replyTo), ["1", undefined]);
});
