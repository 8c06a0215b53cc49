import type { Context } from "hono";
import { errorResponse } from "./http_error.ts";
import { readBody } from "./read_body.ts";

/** Largest request body accepted by the POST endpoints. */
export const MAX_BODY_BYTES = 16 * 1024;

const MEDIA_TYPES = ["application/json", "application/x-www-form-urlencoded"];

/** Fields of a form body or the parsed JSON value, or the error response to send. */
export type FieldsResult = { ok: true; value: unknown } | {
  ok: false;
  response: Response;
};

/**
 * Reads a JSON or form body under the size limit: 415 for other types, 413
 * when too large, 400 for invalid UTF-8 or JSON or a body cut short (503 if
 * that happened because the server is shutting down). Form fields come back as an
 * object of their first values.
 */
export async function readFields(
  c: Context,
  formFields: string[],
  stopping: () => boolean,
): Promise<FieldsResult> {
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0].trim()
    .toLowerCase();
  if (!MEDIA_TYPES.includes(mediaType)) {
    return {
      ok: false,
      response: errorResponse(
        415,
        "Send the body as application/json or application/x-www-form-urlencoded.",
      ),
    };
  }
  const body = await readBody(c.req.raw, MAX_BODY_BYTES);
  if (!body.ok) {
    const responses = {
      too_large: () =>
        errorResponse(413, `The body is larger than ${MAX_BODY_BYTES} bytes.`),
      bad_encoding: () => errorResponse(400, "The body is not valid UTF-8."),
      // Past the body deadline (read_body.ts). Deno still reads the rest of
      // the body after this answer; the header asks the client to stop.
      timeout: () =>
        errorResponse(
          408,
          "The request body did not arrive in time; send the request again.",
          { Connection: "close" },
        ),
      // Deno gives the same error for both causes; only the server knows
      // whether it is shutting down.
      unreadable: () =>
        stopping()
          ? errorResponse(
            503,
            "The server is restarting; send the request again.",
            { "Retry-After": "1" },
          )
          : errorResponse(400, "The body ended before its declared length."),
    };
    return { ok: false, response: responses[body.reason]() };
  }
  if (mediaType === "application/json") {
    try {
      return { ok: true, value: JSON.parse(body.text) };
    } catch {
      return {
        ok: false,
        response: errorResponse(400, "The body is not valid JSON."),
      };
    }
  }
  const form = decodeForm(body.text);
  if (form === null) {
    return {
      ok: false,
      response: errorResponse(
        400,
        "The form body is not valid UTF-8 once percent-decoded.",
      ),
    };
  }
  return {
    ok: true,
    value: Object.fromEntries(
      formFields.map((name) => [name, form.get(name)]),
    ),
  };
}

/**
 * Parses an application/x-www-form-urlencoded body as URLSearchParams does
 * (first value of each name), except that percent-encoded bytes that are not
 * UTF-8 make it null: URLSearchParams would store them as U+FFFD unnoticed.
 */
function decodeForm(body: string): Map<string, string> | null {
  const fields = new Map<string, string>();
  for (const pair of body.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeFormPart(eq === -1 ? pair : pair.slice(0, eq));
    const value = decodeFormPart(eq === -1 ? "" : pair.slice(eq + 1));
    if (name === null || value === null) return null;
    if (!fields.has(name)) fields.set(name, value);
  }
  return fields;
}

function decodeFormPart(part: string): string | null {
  // decodeURIComponent throws on bytes that are not UTF-8; a "%" without two
  // hex digits after it stays as it is in a form, so escape it first.
  try {
    return decodeURIComponent(
      part.replaceAll("+", " ").replace(/%(?![0-9A-Fa-f]{2})/g, "%25"),
    );
  } catch {
    return null;
  }
}
