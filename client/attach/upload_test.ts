import assert from "node:assert/strict";
import { deliver, type OutboxItem } from "../outbox.ts";
import { fitted } from "./resize.ts";
import { withAttachments } from "./upload.ts";

Deno.test("a message with pictures is posted as JSON with its attachments, the rest of the fields as a form would send them", async () => {
  const seen: { headers: Record<string, string>; body: unknown }[] = [];
  const item: OutboxItem = {
    clientId: "c1",
    author: "ann",
    text: "",
    state: "sending",
    replyTo: 7,
  };
  const result = await deliver(
    withAttachments((_url, init) => {
      seen.push({
        headers: init.headers as Record<string, string>,
        body: JSON.parse(String(init.body)),
      });
      return Promise.resolve(
        new Response(
          JSON.stringify({
            id: 1,
            author: "ann",
            text: "",
            createdAt: "2026-12-06T00:00:00.000Z",
            clientId: "c1",
          }),
          { status: 201 },
        ),
      );
    }, [{ id: "a".repeat(22), alt: "a cat" }]),
    item,
    0,
    "tok",
  );
  assert.ok("message" in result);
  assert.equal(seen[0].headers["Content-Type"], "application/json");
  assert.equal(seen[0].headers.Authorization, "Bearer tok");
  assert.deepEqual(seen[0].body, {
    author: "ann",
    text: "",
    clientId: "c1",
    replyTo: "7",
    attachments: [{ id: "a".repeat(22), alt: "a cat" }],
  });
});

Deno.test("pictures are shrunk to a long side of 2048 px, keeping their shape, never enlarged", () => {
  assert.deepEqual(fitted(4000, 3000), { width: 2048, height: 1536 });
  assert.deepEqual(fitted(1000, 6000), { width: 341, height: 2048 });
  assert.deepEqual(fitted(800, 600), { width: 800, height: 600 });
  assert.deepEqual(fitted(100_000, 1), { width: 2048, height: 1 });
});
