import type { Context } from "hono";
import { DatabaseUnavailableError } from "../../db/database.ts";
import { errorResponse, unavailableResponse } from "./http_error.ts";
import { validateMessageInput } from "../../protocol/message.ts";
import {
  MessageRejectedError,
  type MessageStore,
} from "../store/message_store.ts";
import { readFields } from "./request_fields.ts";
import type { AppLimits } from "./app_env.ts";
import { clientAddress } from "./client_address.ts";
import type { PlazaMetrics } from "../observe/metrics.ts";

/** The POST /messages handler: validate, store (which notifies), answer 201 with the message. */
export function postMessage(
  store: MessageStore,
  limits: Pick<AppLimits, "post" | "trustProxy">,
  stopping: () => boolean,
  metrics: Pick<
    PlazaMetrics,
    "messagesPosted" | "rateLimited" | "databaseErrors"
  >,
) {
  return async (c: Context): Promise<Response> => {
    const decision = limits.post.take(clientAddress(c, limits.trustProxy));
    if (!decision.ok) {
      metrics.rateLimited.inc({ kind: "post" });
      return errorResponse(
        429,
        "You are sending messages too fast; wait a moment and try again.",
        { "Retry-After": String(decision.retryAfterSeconds) },
      );
    }
    const fields = await readFields(
      c,
      ["author", "text", "clientId"],
      stopping,
    );
    if (!fields.ok) return fields.response;
    const input = validateMessageInput(fields.value);
    if (!input.ok) return errorResponse(400, input.error);
    try {
      const { message, created } = await store.insert(input.value);
      if (created) metrics.messagesPosted.inc();
      // A repeat of a clientId answers 200 with the original: the client
      // retried a send whose first answer it never saw.
      return Response.json(message, {
        status: created ? 201 : 200,
        headers: { Location: `/messages/${message.id}` },
      });
    } catch (error) {
      if (error instanceof DatabaseUnavailableError) {
        metrics.databaseErrors.inc();
        return unavailableResponse();
      }
      if (error instanceof MessageRejectedError) {
        return errorResponse(400, error.message);
      }
      throw error;
    }
  };
}
