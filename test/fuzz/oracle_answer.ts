/**
 * The oracle for answers: the HTTP contract of docs/api.md each answer must
 * keep, and what a POST, GET or DELETE answer says about the stored state
 * (recorded in the run state for the checks after the run).
 */
import type { Message } from "../../protocol/message.ts";
import { clip } from "./bytes.ts";
import type { Case } from "./cases.ts";
import type { Answer } from "./outcome.ts";
import type { RunState } from "./run_state.ts";

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function asMessage(value: unknown): Message | null {
  if (typeof value !== "object" || value === null) return null;
  const m = value as Record<string, unknown>;
  const ok = typeof m.id === "number" && Number.isSafeInteger(m.id) &&
    m.id > 0 && typeof m.author === "string" && typeof m.text === "string" &&
    typeof m.createdAt === "string" && ISO_UTC.test(m.createdAt) &&
    (m.clientId === null || typeof m.clientId === "string");
  return ok ? value as Message : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** GET / (and /m/<id>, /embed) answers 503 text "build the client first" when dist/ is missing, as in tests. */
function isNoClientAnswer(a: Answer): boolean {
  return a.status === 503 &&
    (a.headers.get("content-type") ?? "").startsWith("text/plain") &&
    (a.body === "" || a.body.startsWith("Plaza's client is not built yet"));
}

/** The rules an answer to `c` breaks (empty: none); records what it says was stored or deleted. */
export function checkAnswer(c: Case, a: Answer, state: RunState): string[] {
  const problems: string[] = [];
  // secureHeaders() marks every answer that went through the app (/embed,
  // which EMBED_ORIGINS may frame, without X-Frame-Options).
  const fromApp = a.headers.has("x-frame-options") ||
    a.headers.has("content-security-policy");
  const head = c.via === "raw" ? c.head === true : c.method === "HEAD";
  if (a.status >= 500) {
    if (fromApp && isNoClientAnswer(a)) {
      state.noClient++;
      return problems;
    }
    problems.push(
      `answered ${a.status} (${
        fromApp ? "from the app" : "from the HTTP layer"
      }): ${clip(a.body, 300)}`,
    );
    return problems;
  }
  if (!fromApp) {
    if (a.status >= 400) {
      state.httpLayer.set(a.status, (state.httpLayer.get(a.status) ?? 0) + 1);
    } else {
      problems.push(`answered ${a.status} without the app's headers`);
    }
    return problems;
  }
  if (a.status >= 400) {
    if (head) {
      if (!a.headers.get("content-type")?.startsWith("application/json")) {
        problems.push(
          `${a.status} to HEAD without a JSON content type (${
            a.headers.get("content-type")
          })`,
        );
      }
    } else {
      const json = parseJson(a.body);
      const keys = typeof json === "object" && json !== null
        ? Object.keys(json)
        : [];
      const error = (json as { error?: unknown } | undefined)?.error;
      if (
        keys.length !== 1 || typeof error !== "string" || error.trim() === ""
      ) {
        problems.push(
          `${a.status} without a JSON {"error": sentence} body: ${
            clip(a.body, 300)
          }`,
        );
      }
    }
    if (a.status === 405 && !a.headers.has("allow")) {
      problems.push("405 without an Allow header");
    }
    if (a.status === 429 && !a.headers.has("retry-after")) {
      problems.push("429 without a Retry-After header");
    }
  }
  if (c.expect !== undefined && !c.expect.includes(a.status)) {
    problems.push(
      `expected ${c.expect.join(" or ")}, got ${a.status}: ${
        clip(a.body, 300)
      }`,
    );
  }
  if (c.route === "POST /messages" && (a.status === 201 || a.status === 200)) {
    const message = asMessage(parseJson(a.body));
    if (message === null) {
      problems.push(`${a.status} without a message: ${clip(a.body, 300)}`);
      return problems;
    }
    if (a.headers.get("location") !== `/messages/${message.id}`) {
      problems.push(`Location ${a.headers.get("location")} for ${message.id}`);
    }
    if (a.status === 201) {
      if (state.created.has(message.id)) {
        problems.push(`a second 201 for message ${message.id}`);
      }
      state.created.set(message.id, message);
      if (
        c.post !== undefined && (message.author !== c.post.author ||
          message.text !== c.post.text || message.clientId !== c.post.clientId)
      ) {
        problems.push(
          `stored ${JSON.stringify(message)} for ${JSON.stringify(c.post)}`,
        );
      }
    } else {
      state.repeats.push({ id: message.id, clientId: message.clientId });
      if (c.post !== undefined && message.clientId !== c.post.clientId) {
        problems.push(
          `200 with clientId ${message.clientId}, sent ${c.post.clientId}`,
        );
      }
    }
  }
  const search = c.route === "GET /messages?q=";
  if ((c.route === "GET /messages" || search) && a.status === 200 && !head) {
    const page = parseJson(a.body) as
      | { messages?: unknown; hasMore?: unknown }
      | undefined;
    const messages = Array.isArray(page?.messages)
      ? (page.messages as unknown[]).map(asMessage)
      : null;
    if (
      messages === null || typeof page?.hasMore !== "boolean" ||
      messages.some((m, i) =>
        m === null ||
        // Scrollback is oldest first, a search newest first.
        (i > 0 && (search ? -1 : 1) * (m.id - messages[i - 1]!.id) <= 0)
      )
    ) {
      problems.push(`a malformed page: ${clip(a.body, 300)}`);
    }
  }
  if (c.deletes !== undefined && a.status === 204) {
    state.deleted.add(c.deletes);
  }
  if (c.route === "GET /messages/:id" && a.status === 200 && !head) {
    if (asMessage(parseJson(a.body)) === null) {
      problems.push(`not a message: ${clip(a.body, 300)}`);
    }
  }
  if (c.route === "GET /stream" && a.status === 200 && !head) {
    if (!a.body.startsWith("retry:")) {
      problems.push(
        `a stream that starts ${JSON.stringify(a.body.slice(0, 80))}`,
      );
    }
  }
  return problems;
}
