/** The part of fetch used to reach the server; tests pass their own. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;
