import type { Context } from "hono";
import { errorResponse } from "./http_error.ts";

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", encoder.encode(text)),
  );
}

/** Compares two secrets in time that does not depend on where they differ (hashing first evens out lengths too). */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

/** Checks `Authorization: Bearer <token>`: null when allowed, else the 401/403 to send; `what` names the token (e.g. "admin") and `name` its setting. */
export async function checkBearer(
  c: Context,
  token: string,
  what: string,
  name: string,
): Promise<Response | null> {
  const header = c.req.header("authorization") ?? "";
  const match = header.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) {
    return errorResponse(
      401,
      `This needs the ${what} token: send Authorization: Bearer <${name}>.`,
      { "WWW-Authenticate": 'Bearer realm="plaza"' },
    );
  }
  if (!(await secretsEqual(match[1], token))) {
    return errorResponse(403, `That ${what} token is not valid.`);
  }
  return null;
}

/** Checks `Authorization: Bearer <ADMIN_TOKEN>`: null when allowed, else the 401/403 to send. */
export function checkAdmin(
  c: Context,
  token: string,
): Promise<Response | null> {
  return checkBearer(c, token, "admin", "ADMIN_TOKEN");
}
