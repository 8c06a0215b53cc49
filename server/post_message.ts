import type { Context } from "hono";
import { DatabaseUnavailableError } from "./database.ts";
import { errorResponse, unavailableResponse } from "./http_error.ts";
import { validateMessageInput } from "./message.ts";
import { MessageRejectedError, type MessageStore } from "./message_store.ts";
import { readBody } from "./read_body.ts";

/** Largest request body accepted by POST /messages. */
export const MAX_BODY_BYTES = 16 * 1024;

const MEDIA_TYPES = ["application/json", "application/x-www-form-urlencoded"];

function parseFields(
  mediaType: string,
  body: string,
): { ok: true; value: unknown } | { ok: false; response: Response } {
  if (mediaType === "application/json") {
    try {
      return { ok: true, value: JSON.parse(body) };
    } catch {
      return {
        ok: false,
        response: errorResponse(400, "The body is not valid JSON."),
      };
    }
  }
  const form = new URLSearchParams(body);
  return {
    ok: true,
    value: {
      author: form.get("author") ?? undefined,
      text: form.get("text") ?? undefined,
    },
  };
}

/** The POST /messages handler: validate, store (which notifies), answer 201 with the message. */
export function postMessage(store: MessageStore) {
  return async (c: Context): Promise<Response> => {
    const mediaType = (c.req.header("content-type") ?? "").split(";")[0]
      .trim().toLowerCase();
    if (!MEDIA_TYPES.includes(mediaType)) {
      return errorResponse(
        415,
        "Send the message as application/json or application/x-www-form-urlencoded.",
      );
    }
    const body = await readBody(c.req.raw, MAX_BODY_BYTES);
    if (!body.ok) {
      return body.reason === "too_large"
        ? errorResponse(
          413,
          `The body is larger than ${MAX_BODY_BYTES} bytes.`,
        )
        : errorResponse(400, "The body is not valid UTF-8.");
    }
    const fields = parseFields(mediaType, body.text);
    if (!fields.ok) return fields.response;
    const input = validateMessageInput(fields.value);
    if (!input.ok) return errorResponse(400, input.error);
    try {
      const message = await store.insert(input.value);
      return Response.json(message, {
        status: 201,
        headers: { Location: `/messages/${message.id}` },
      });
    } catch (error) {
      if (error instanceof DatabaseUnavailableError) {
        return unavailableResponse();
      }
      if (error instanceof MessageRejectedError) {
        return errorResponse(400, error.message);
      }
      throw error;
    }
  };
}
