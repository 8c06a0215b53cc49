/** A JSON error response: `{"error": "<human sentence>"}` with the given status. */
export function errorResponse(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ error: message }, { status, headers });
}

/** Answer for requests made while the database cannot be reached. */
export function unavailableResponse(): Response {
  return errorResponse(
    503,
    "The database is unavailable right now; please try again in a few seconds.",
    { "Retry-After": "5" },
  );
}
