import type { SseEvent } from "../../test/harness/sse_parser.ts";
import { cleaned, type PostBody } from "./post_body.ts";
import type { Sent, SimClient } from "./sim_client.ts";
import type { Tally } from "./tally.ts";
import {
  canonical,
  parseWireMessage,
  type PostAnswer,
  type WireMessage,
} from "./wire_message.ts";

/** Checks every answer and delivery as it comes, counting what is wrong in the tally. */
export interface Oracle {
  /** First rendering of each id seen anywhere (POST answer or stream). */
  readonly seen: ReadonlyMap<number, string>;
  /** Ids answered with 201, with what the answer said. */
  readonly created: ReadonlyMap<number, string>;
  /** A stream event `client` got: well-formed, not a repeat, not older than the last. */
  delivered(client: SimClient, event: SseEvent, where: string): void;
  /** A POST answer with an expected status: it holds what was sent, and a 201 is the id's only one. */
  answered(
    what: string,
    status: number,
    body: PostBody,
    message: WireMessage,
  ): void;
  /** A repeat of an earlier send: it must name the earlier id. */
  repeated(earlier: Sent, message: WireMessage): void;
  /** One body sent to two instances at once: one 201 and one 200, for one id. */
  raced(a: PostAnswer, b: PostAnswer): void;
}

/** An oracle that has seen nothing yet. */
export function createOracle(tally: Tally): Oracle {
  const seen = new Map<number, string>();
  const created = new Map<number, string>();

  const remember = (m: WireMessage, where: string) => {
    const key = canonical(m);
    const first = seen.get(m.id);
    if (first === undefined) seen.set(m.id, key);
    else if (first !== key) {
      tally.corrupt++;
      tally.note(
        "mismatched payload",
        `${where}: id ${m.id} was ${first}, now ${key}`,
      );
    }
  };

  return {
    seen,
    created,
    delivered(client, event, where) {
      tally.deliveries++;
      const m = parseWireMessage(event.data);
      if (m === null || event.id !== String(m.id)) {
        tally.corrupt++;
        tally.note(
          "mismatched payload",
          `${where}: id: ${event.id} data: ${event.data.slice(0, 200)}`,
        );
        return;
      }
      remember(m, where);
      if (client.received.has(m.id)) {
        tally.duplicates++;
        client.duplicates++;
        tally.note(
          "duplicate",
          `${client.author} got id ${m.id} again (${where}, last id was ${client.lastId})`,
        );
      } else {
        if (client.lastId !== null && m.id < client.lastId) {
          tally.outOfOrder++;
          client.outOfOrder++;
          tally.note(
            "out of order",
            `${client.author} got id ${m.id} after ${client.lastId} (${where})`,
          );
        }
        client.received.add(m.id);
      }
      // As EventSource does: the last id seen, whatever it is.
      client.lastId = m.id;
    },
    answered(what, status, body, message) {
      if (
        message.author !== cleaned(body.author) ||
        message.text !== cleaned(body.text) ||
        message.clientId !== body.clientId
      ) {
        tally.corrupt++;
        tally.note(
          "mismatched payload",
          `${what} stored ${canonical(message).slice(0, 200)} for ${
            JSON.stringify(body).slice(0, 200)
          }`,
        );
      }
      remember(message, what);
      if (status === 201) {
        tally.posted++;
        if (created.has(message.id)) {
          tally.idempotencyFailures++;
          tally.note("idempotency", `${what}: id ${message.id} created twice`);
        }
        created.set(message.id, canonical(message));
      }
    },
    repeated(earlier, message) {
      if (message.id === earlier.id) tally.repeats++;
      else {
        tally.idempotencyFailures++;
        tally.note(
          "idempotency",
          `repeat of ${earlier.body.clientId} answered id ${message.id}, first was ${earlier.id}`,
        );
      }
    },
    raced(a, b) {
      tally.races++;
      const statuses = [a.status, b.status].sort().join("+");
      if (statuses !== "200+201" || a.message.id !== b.message.id) {
        tally.idempotencyFailures++;
        tally.note(
          "idempotency",
          `same clientId to both instances at once: ${a.status} id ${a.message.id}, ${b.status} id ${b.message.id}`,
        );
      }
    },
  };
}
