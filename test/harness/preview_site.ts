/**
 * A local web site for link-preview tests, on 127.0.0.1 and a free port: an
 * Open Graph page, a page held until the test releases it, redirects to
 * addresses the guard must refuse, a page far larger than the read cap, a
 * slow one and a non-HTML one. It records every request, so a test can
 * show one was never made.
 */
import type { PreviewGuard } from "../../server/previews/ssrf_guard.ts";

/** Bytes the /huge page offers before giving up (far beyond MAX_READ_BYTES). */
export const HUGE_PAGE_BYTES = 50 * 1024 * 1024;

/** The Open Graph page's HTML. */
export const OG_PAGE = `<!doctype html><html><head>
<meta charset="utf-8">
<title>Fallback title</title>
<meta property="og:title" content="Ada &amp; the Engine">
<meta property="og:description" content="Notes on the &lt;Analytical&gt; Engine &#8212; 1843">
<meta property="og:image" content="https://img.example/engine.png">
<meta property="og:site_name" content="Test Site">
</head><body><meta property="og:title" content="not this"></body></html>`;

/** A running test site. */
export interface PreviewSite {
  /** Base URL by address, e.g. http://127.0.0.1:4711. */
  url: string;
  port: number;
  /** Paths requested, in order. */
  requests: string[];
  /** The Host header of each request, in order. */
  hosts: string[];
  /** Bytes of /huge handed to the connection so far. */
  hugeBytesSent(): number;
  /** Resolves once /huge's body was cancelled (the reader hung up). */
  hugeCancelled: Promise<void>;
  /** Lets /gated and /slow answer. */
  release(): void;
  /** Resolves when a path is first requested. */
  requested(path: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts the site; `redirectTo` is where /redirect sends readers. */
export function startPreviewSite(
  options: { redirectTo?: () => string } = {},
): PreviewSite {
  const requests: string[] = [];
  const hosts: string[] = [];
  const waiting = new Map<string, () => void>();
  const seen = new Map<string, Promise<void>>();
  const requested = (path: string) => {
    let promise = seen.get(path);
    if (!promise) {
      promise = new Promise<void>((resolve) => waiting.set(path, resolve));
      seen.set(path, promise);
    }
    return promise;
  };
  const released = Promise.withResolvers<void>();
  const hugeCancelled = Promise.withResolvers<void>();
  let hugeBytes = 0;
  const html = (body: BodyInit) =>
    new Response(body, {
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (request) => {
    const path = new URL(request.url).pathname;
    requests.push(path);
    hosts.push(request.headers.get("host") ?? "");
    requested(path);
    waiting.get(path)?.();
    switch (path) {
      case "/og":
        return html(OG_PAGE);
      case "/gated":
        await released.promise;
        return html(OG_PAGE);
      case "/redirect":
        return new Response(null, {
          status: 302,
          headers: { location: options.redirectTo?.() ?? "/og" },
        });
      case "/huge": {
        const chunk = new TextEncoder().encode(
          "<!-- " + "x".repeat(64 * 1024 - 9) + " -->",
        );
        return html(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(
                new TextEncoder().encode("<html><head><title>Huge</title>"),
              );
            },
            pull(controller) {
              if (hugeBytes >= HUGE_PAGE_BYTES) return controller.close();
              hugeBytes += chunk.length;
              controller.enqueue(chunk);
            },
            cancel() {
              hugeCancelled.resolve();
            },
          }),
        );
      }
      case "/slow":
        return html(
          new ReadableStream<Uint8Array>({
            async start(controller) {
              controller.enqueue(new TextEncoder().encode("<html><head>"));
              await released.promise;
              controller.enqueue(
                new TextEncoder().encode("<title>Late</title></head>"),
              );
              controller.close();
            },
          }),
        );
      case "/json":
        return Response.json({ title: "not html" });
      default:
        return new Response("not here", { status: 404 });
    }
  });
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    hosts,
    hugeBytesSent: () => hugeBytes,
    hugeCancelled: hugeCancelled.promise,
    release: () => released.resolve(),
    requested,
    async close() {
      released.resolve();
      await server.shutdown();
    },
  };
}

/** The name tests give the site in links; the guard below resolves it (and nothing else) to 127.0.0.1. */
export const SITE_NAME = "site.test";

/**
 * A guard that lets the fetcher reach the test site, and nothing else:
 * SITE_NAME resolves to 127.0.0.1 and only `port` there may be connected to.
 * Every other name resolves to nothing, so no test resolves a real one.
 */
export function siteGuard(port: number): PreviewGuard {
  return {
    resolve: (host) => Promise.resolve(host === SITE_NAME ? ["127.0.0.1"] : []),
    allows: (address, p) => address === "127.0.0.1" && p === port,
  };
}
