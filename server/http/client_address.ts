import type { Context } from "hono";

/**
 * The address rate limits are counted against. Behind a proxy every request
 * comes from the proxy, so with `trustProxy` the last X-Forwarded-For entry
 * (the one the proxy itself appended) is used; without it the header is
 * ignored, since any client can send one.
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",").at(-1)
      ?.trim();
    if (forwarded) return forwarded.slice(0, 100);
  }
  // Hono hands Deno.serve's handler info to the app as its env.
  const info = c.env as
    | Partial<Deno.ServeHandlerInfo<Deno.NetAddr>>
    | undefined;
  return info?.remoteAddr?.hostname ?? "unknown";
}
