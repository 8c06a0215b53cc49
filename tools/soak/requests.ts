import type { Instance } from "./instance.ts";
import type { PostBody } from "./post_body.ts";
import {
  asWireMessage,
  parseWireMessage,
  type PostAnswer,
} from "./wire_message.ts";
import type { World } from "./world.ts";

/** A whole request must finish within this. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The newest committed id, as a client would learn it (GET /messages); null on failure, counted. */
export async function newestId(
  world: World,
  instance: Instance,
): Promise<number | null> {
  const what = `GET ${instance.name}/messages?limit=1`;
  try {
    const res = await fetch(`${instance.url}/messages?limit=1`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!world.tally.status(what, res.status, [200], text)) return null;
    const body: unknown = JSON.parse(text);
    const messages = (body as { messages?: unknown }).messages;
    if (!Array.isArray(messages)) throw new Error(`unexpected body ${text}`);
    const last = asWireMessage(messages.at(-1));
    return last?.id ?? 0;
  } catch (error) {
    world.tally.error(what, error);
    return null;
  }
}

/** Posts `body` and has the oracle check the answer; returns it when its status is one of `expected`. */
export async function post(
  world: World,
  instance: Instance,
  body: PostBody,
  expected: number[],
): Promise<PostAnswer | null> {
  const { tally } = world;
  const what = `POST ${instance.name}/messages`;
  const started = performance.now();
  try {
    const res = await fetch(`${instance.url}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    tally.postMs.push(performance.now() - started);
    if (!tally.status(what, res.status, expected, text)) return null;
    const message = parseWireMessage(text);
    if (message === null) throw new Error(`unexpected body ${text}`);
    world.oracle.answered(what, res.status, body, message);
    return { status: res.status, message };
  } catch (error) {
    tally.error(what, error);
    return null;
  }
}
