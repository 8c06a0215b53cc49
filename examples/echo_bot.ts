/**
 * A Plaza bot in one file: it answers each mention with what was said.
 *
 * Register it (once) and start it on the same host as Plaza:
 *
 *   ADMIN_TOKEN=… deno task moderate bots add Echo http://127.0.0.1:8787/ --allow-local
 *   BOT_SECRET=<the webhook secret printed> deno run --allow-net --allow-env=BOT_SECRET,PORT examples/echo_bot.ts
 *
 * Plaza POSTs each message that mentions @Echo here (docs/api.md, "Bots");
 * the bot checks the signature and the timestamp, and answers
 * `{"text": …, "replyTo": …}`, which Plaza posts as Echo's reply. It needs
 * nothing but Deno: copy it anywhere.
 */

/** How old a signed request may be before it is refused (a replayed one). */
const MAX_AGE_SECONDS = 300;

const encoder = new TextEncoder();

/** The hex HMAC-SHA256 of `text` with `secret`. */
async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, encoder.encode(text)),
  );
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares two strings in time that does not depend on where they differ. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Whether `request` (with its `body` read) was signed by Plaza with `secret` in the last MAX_AGE_SECONDS. */
export async function verified(
  secret: string,
  headers: Headers,
  body: string,
  now = Date.now() / 1000,
): Promise<boolean> {
  const timestamp = headers.get("Plaza-Timestamp") ?? "";
  const signature = headers.get("Plaza-Signature") ?? "";
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(now - Number(timestamp)) > MAX_AGE_SECONDS) return false;
  const expected = `sha256=${await hmacHex(secret, `${timestamp}.${body}`)}`;
  return sameText(signature, expected);
}

/** The bot: a request handler for Deno.serve. */
export function echoBot(
  secret: string,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== "POST") {
      return new Response("POST only", { status: 405 });
    }
    const body = await request.text();
    if (!(await verified(secret, request.headers, body))) {
      return new Response("bad signature", { status: 401 });
    }
    const { type, bot, message } = JSON.parse(body);
    if (type !== "mention") return new Response(null, { status: 204 });
    // Drop the mention itself: "@Echo hello" is echoed as "hello".
    const name = bot.replace(/[$()*+.?[\\\]^{|}/]/g, "\\$&");
    const said = message.text.replace(new RegExp(`@${name}`, "giu"), "")
      .trim();
    return Response.json({
      text: said === "" ? `Hello, ${message.author}!` : said,
      replyTo: message.id,
    });
  };
}

if (import.meta.main) {
  const secret = Deno.env.get("BOT_SECRET");
  if (!secret) {
    console.error("Set BOT_SECRET to the webhook secret Plaza gave the bot.");
    Deno.exit(2);
  }
  Deno.serve(
    { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? 8787) },
    echoBot(secret),
  );
}
