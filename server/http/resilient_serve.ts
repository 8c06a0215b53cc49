/**
 * Deno.serve that survives its accept loop failing, e.g. when idle sockets
 * have used up every file descriptor.
 *
 * Measured on Deno 2.9.6 (Linux, `ulimit -n 256`, 400 sockets from 127.0.0.1
 * that send nothing or half a request head):
 * - accept() fails with EMFILE, the accept loop ends and drops its listening
 *   socket (further connections are refused), and `server.finished` rejects
 *   with `Http: Error: Too many open files (os error 24)`. Unhandled, that
 *   rejection ends the process (an `unhandledrejection` handler that calls
 *   preventDefault() keeps it alive, but then nothing is accepted again).
 * - Caught, the process lives and responses in flight go on (an open stream
 *   still receives), but nothing is accepted: the idle sockets keep every
 *   descriptor until their clients close them.
 * - `shutdown()` on the failed server (graceful: it cancels the server's
 *   accept handle) at once closes each of its connections that has no request
 *   in flight, silent and half-headed alike (all 233 accepted before the
 *   failure got EOF), while its open streams keep streaming. A new Deno.serve
 *   on the same port then serves new requests during the flood.
 * So a failed server is shut down gracefully (shedding its idle connections)
 * and replaced by a new one on the same address.
 *
 * Not shed: a connection whose request body was not read to its end. After
 * the answer Deno reads the rest of the body with no time limit, and neither
 * a graceful shutdown nor cancelling the body reader ends that (of 400
 * sockets that sent a POST head with Content-Length and no body, the 227
 * accepted had their reads cut by the shed, got a 400, and stayed open).
 * Only aborting the whole server closes them, and that would end its
 * streams too.
 *
 * Not done: closing idle connections on a timer. Deno.serve has no header or
 * keep-alive timeout, and replacing the server on a timer would need
 * overlapping listeners (`reusePort`, behind --unstable-net) and would still
 * cut connections accepted a moment before (54 of 13,727 requests failed with
 * five replacements a second). A proxy in front has to bound those.
 */

/** Least wait before listening again after a failed attempt; doubles up to RELISTEN_MAX_MS. */
export const RELISTEN_MIN_MS = 100;
/** Most wait between two attempts to listen again. */
export const RELISTEN_MAX_MS = 5_000;

/** What serveResilient tells its caller. */
export interface ResilientServeHooks {
  /** The accept loop failed; idle connections are being shed and a new listener started. */
  onAcceptFailed?: (error: unknown) => void;
  /** Listening again failed; the next attempt is in `retryMs`. */
  onRelistenFailed?: (error: unknown, retryMs: number) => void;
}

/** A server that replaces its listener when accepting fails. */
export interface ResilientServer {
  /** The port served (fixed once chosen, also when listening again). */
  port: number;
  /** Stops listening; resolves when Deno.HttpServer's shutdown() has, for the current server and every failed one. */
  shutdown(): Promise<void>;
}

/** Like Deno.serve on `hostname:port` (throws the same way if it cannot listen at first), but listens again whenever the accept loop fails. */
export function serveResilient(
  options: { hostname: string; port: number },
  handler: Deno.ServeHandler<Deno.NetAddr>,
  hooks: ResilientServeHooks = {},
): ResilientServer {
  // Failed servers go on with the responses they have (streams included);
  // shutdown() waits for theirs as for the current one's.
  const draining = new Set<Promise<void>>();
  let closing = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const listen = (port: number): Deno.HttpServer<Deno.NetAddr> => {
    const server = Deno.serve({
      hostname: options.hostname,
      port,
      onListen: () => {},
    }, handler);
    server.finished.catch((error: unknown) => {
      if (closing) return;
      current = null;
      const drained: Promise<void> = server.shutdown().catch(() => {})
        .finally(() => draining.delete(drained));
      draining.add(drained);
      hooks.onAcceptFailed?.(error);
      // On the next turn, once shutdown() has begun closing the idle ones.
      relisten(0);
    });
    return server;
  };

  let current: Deno.HttpServer<Deno.NetAddr> | null = listen(options.port);
  const port = current.addr.port;

  const relisten = (delayMs: number) => {
    timer = setTimeout(() => {
      timer = undefined;
      if (closing) return;
      try {
        current = listen(port);
      } catch (error) {
        const next = Math.min(
          Math.max(delayMs * 2, RELISTEN_MIN_MS),
          RELISTEN_MAX_MS,
        );
        hooks.onRelistenFailed?.(error, next);
        relisten(next);
      }
    }, delayMs);
  };

  return {
    port,
    async shutdown() {
      closing = true;
      clearTimeout(timer);
      await Promise.all([current?.shutdown(), ...draining]);
    },
  };
}
