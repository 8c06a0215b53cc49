/**
 * Cache-Control of the JSON API: its answers say how the room is now (a
 * message may be deleted a moment later, an error may be over), so neither a
 * browser nor a shared cache should keep one.
 */
export const API_CACHE_CONTROL = "no-store";

/** A JSON error response: `{"error": "<human sentence>"}` with the given status, never cached. */
export function errorResponse(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ error: message }, {
    status,
    headers: { "Cache-Control": API_CACHE_CONTROL, ...headers },
  });
}

/** Answer for requests made while the database cannot be reached. */
export function unavailableResponse(): Response {
  return errorResponse(
    503,
    "The database is unavailable right now; please try again in a few seconds.",
    { "Retry-After": "5" },
  );
}
