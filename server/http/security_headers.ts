import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

/** Security headers for every response, API and stream included. */
export function securityHeaders(): MiddlewareHandler {
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
      frameAncestors: ["'none'"],
      objectSrc: ["'none'"],
    },
    xFrameOptions: "DENY",
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
