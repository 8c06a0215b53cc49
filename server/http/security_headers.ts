import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

/**
 * Headers that take effect only on a document (a page the browser renders,
 * or a navigation to one), so an event stream is sent without them:
 * Cross-Origin-Opener-Policy (top-level documents' browsing context group),
 * Origin-Agent-Cluster (documents' agent cluster), X-DNS-Prefetch-Control
 * (prefetching for links in a page), X-Download-Options (old Internet
 * Explorer's "Open" of a downloaded page) and X-XSS-Protection (the retired
 * XSS auditor of HTML pages). Every header an open stream was sent with costs
 * memory for as long as it stays open: the runtime's HTTP/1.1 layer keeps
 * the response's header map (cleared, at its size) per connection. 16
 * headers cost 2.4 KB per idle stream more than 9 did, 16 one-letter ones
 * 1.7 KB (bench/stream_memory.ts, docs/benchmarks.md, "What an idle stream
 * keeps"); without these five a stream has 11.
 */
export const DOCUMENT_ONLY_HEADERS: readonly string[] = [
  "Cross-Origin-Opener-Policy",
  "Origin-Agent-Cluster",
  "X-DNS-Prefetch-Control",
  "X-Download-Options",
  "X-XSS-Protection",
];

const EVENT_STREAM = "text/event-stream";

/** The compact page other sites may put in an `<iframe>` (asset_routes.ts). */
export const EMBED_PATH = "/embed";

// The same policy everywhere but for who may frame the page.
function headers(
  frameAncestors: string[],
  xFrameOptions: string | false,
): MiddlewareHandler {
  return secureHeaders({
    // A route that sets one of these keeps its own: pictures are served
    // with `default-src 'none'` (attachment_routes.ts).
    overwrite: false,
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      manifestSrc: ["'self'"],
      workerSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors,
      objectSrc: ["'none'"],
    },
    xFrameOptions,
    referrerPolicy: "no-referrer",
    // HSTS belongs to whoever terminates TLS; Plaza itself often serves
    // plain http on localhost or behind a proxy.
    strictTransportSecurity: false,
    // Only features the browsers know: an unknown token (bluetooth, which
    // Chromium does not implement as a policy) gets a console warning on
    // every page load. security_headers_e2e_test.ts checks the list against
    // Chromium's.
    permissionsPolicy: {
      camera: [],
      microphone: [],
      geolocation: [],
      payment: [],
      usb: [],
      serial: [],
      hid: [],
      midi: [],
      accelerometer: [],
      gyroscope: [],
      magnetometer: [],
      displayCapture: [],
      browsingTopics: [],
    },
  });
}

/**
 * Security headers for every response, API and stream included. No page may
 * be framed, except EMBED_PATH by the sites in `embedOrigins` (EMBED_ORIGINS,
 * checked in config.ts to be plain origins): its frame-ancestors, and no
 * X-Frame-Options, which knows no list of sites. An event stream leaves out
 * DOCUMENT_ONLY_HEADERS.
 */
export function securityHeaders(
  embedOrigins: readonly string[] = [],
): MiddlewareHandler {
  const framed = headers(["'none'"], "DENY");
  const embed = embedOrigins.length === 0
    ? framed
    : headers([...embedOrigins], false);
  return async (c, next) => {
    await (c.req.path === EMBED_PATH ? embed : framed)(c, next);
    const type = c.res.headers.get("content-type");
    if (type !== null && type.startsWith(EVENT_STREAM)) {
      for (const name of DOCUMENT_ONLY_HEADERS) c.res.headers.delete(name);
    }
  };
}
