import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

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
 * X-Frame-Options, which knows no list of sites.
 */
export function securityHeaders(
  embedOrigins: readonly string[] = [],
): MiddlewareHandler {
  const framed = headers(["'none'"], "DENY");
  if (embedOrigins.length === 0) return framed;
  const embed = headers([...embedOrigins], false);
  return (c, next) =>
    c.req.path === EMBED_PATH ? embed(c, next) : framed(c, next);
}
