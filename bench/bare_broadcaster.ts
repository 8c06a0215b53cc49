/**
 * The runtime's ceiling for the benchmark: a one-room SSE broadcaster on
 * plain `Deno.serve`, with no framework and no database, written the
 * straightforward way (one enqueue per client per message). Every Plaza
 * figure in `deno task bench` is also given as a ratio to this server's.
 *
 * GET /stream answers with the same framing as Plaza (retry, hello, then
 * `id:`/`event: message`/`data:` events, encoded by Plaza's own
 * sse_format.ts); POST /messages takes JSON {author, text}, assigns the next
 * id, encodes the event once and enqueues the same bytes to every client.
 *
 * Usage: deno run --allow-net bench/bare_broadcaster.ts [port]   (0 = any)
 * Prints `listening on http://127.0.0.1:PORT` as Plaza does.
 */

import type { Message } from "../protocol/message.ts";
import {
  encodeMessageEvent,
  encodeText,
  formatEvent,
  formatRetry,
} from "../server/live/sse_format.ts";

const HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
};

/** Starts the broadcaster on 127.0.0.1:`port`; resolves with the server. */
export function startBareBroadcaster(
  port: number,
  onListen: (url: string) => void,
): Deno.HttpServer<Deno.NetAddr> {
  const clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const hello = encodeText(
    formatRetry(2000) +
      formatEvent({ event: "hello", data: '{"heartbeatMs":15000}' }),
  );
  let lastId = 0;

  const stream = () => {
    let self: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        self = controller;
        clients.add(controller);
        controller.enqueue(hello);
      },
      cancel() {
        clients.delete(self);
      },
    });
    return new Response(body, { headers: HEADERS });
  };

  const post = async (req: Request) => {
    let input: { author?: unknown; text?: unknown };
    try {
      input = await req.json();
    } catch {
      return new Response("bad json\n", { status: 400 });
    }
    if (typeof input.author !== "string" || typeof input.text !== "string") {
      return new Response("author and text must be strings\n", {
        status: 400,
      });
    }
    const message: Message = {
      id: ++lastId,
      author: input.author,
      text: input.text,
      createdAt: new Date().toISOString(),
      clientId: null,
    };
    const bytes = encodeMessageEvent(message);
    for (const client of clients) {
      try {
        client.enqueue(bytes);
      } catch {
        // Closed under us; cancel() removes it too.
        clients.delete(client);
      }
    }
    return Response.json(message, { status: 201 });
  };

  return Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ hostname, port }) => onListen(`http://${hostname}:${port}`),
  }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/stream" && req.method === "GET") return stream();
    if (path === "/messages" && req.method === "POST") return post(req);
    if (path === "/readyz") return new Response("ok\n");
    return new Response("not found\n", { status: 404 });
  });
}

if (import.meta.main) {
  const server = startBareBroadcaster(
    Number(Deno.args[0] ?? "0"),
    (url) => console.log(`listening on ${url}`),
  );
  // The runner stops it with SIGTERM; exit at once, streams and all.
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  await server.finished;
}
