/** A loopback TCP proxy whose connections can be frozen (bytes stop moving, nothing closes) or cut. */
export interface TcpProxy {
  port: number;
  /** Stops forwarding on every connection open now (later ones still flow). */
  freeze(): void;
  /** Closes every connection open now, both sides, as a restarting server does; later ones still flow. */
  cut(): void;
  close(): Promise<void>;
}

/** Proxies 127.0.0.1:<free port> to 127.0.0.1:`targetPort`, to simulate a silently dead or dropped connection. */
export function startTcpProxy(targetPort: number): TcpProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pairs = new Set<
    { frozen: boolean; close(): void; done: Promise<void> }
  >();

  const pipe = async (
    from: Deno.Conn,
    to: Deno.Conn,
    pair: { frozen: boolean },
  ) => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        // A frozen connection swallows bytes, like a network that silently
        // stopped delivering: neither side learns anything.
        if (!pair.frozen) await to.write(buf.subarray(0, n));
      }
    } catch {
      // Either side closed.
    }
  };

  const accepting = (async () => {
    for await (const client of listener) {
      let upstream: Deno.Conn;
      try {
        upstream = await Deno.connect({
          hostname: "127.0.0.1",
          port: targetPort,
        });
      } catch {
        client.close();
        continue;
      }
      const pair = {
        frozen: false,
        close() {
          for (const c of [client, upstream]) {
            try {
              c.close();
            } catch {
              // Already closed.
            }
          }
        },
        done: Promise.resolve(),
      };
      // Either side closing closes the other, as the server's FIN would.
      const pipeThenClose = (from: Deno.Conn, to: Deno.Conn) =>
        pipe(from, to, pair).then(() => pair.close());
      pair.done = Promise.all([
        pipeThenClose(client, upstream),
        pipeThenClose(upstream, client),
      ]).then(() => {
        pairs.delete(pair);
      });
      pairs.add(pair);
    }
  })().catch(() => {});

  return {
    port: (listener.addr as Deno.NetAddr).port,
    freeze() {
      for (const p of pairs) p.frozen = true;
    },
    cut() {
      for (const p of pairs) p.close();
    },
    async close() {
      listener.close();
      await accepting;
      const open = [...pairs];
      for (const p of open) p.close();
      await Promise.all(open.map((p) => p.done));
    },
  };
}
