import type { Context } from "hono";

/** The peer address of a request served by Deno.serve, or "unknown" (e.g. in app.request tests). */
export function clientAddress(c: Context): string {
  // Hono hands Deno.serve's handler info to the app as its env.
  const info = c.env as
    | Partial<Deno.ServeHandlerInfo<Deno.NetAddr>>
    | undefined;
  return info?.remoteAddr?.hostname ?? "unknown";
}
