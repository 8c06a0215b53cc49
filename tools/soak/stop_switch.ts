/** How the run ends: the traffic phase on time, everything early on Ctrl-C, SIGTERM or the watchdog. */
export interface StopSwitch {
  /** Aborted on Ctrl-C, SIGTERM or when the watchdog fires. */
  readonly interrupt: AbortSignal;
  /** Aborted at the end of the traffic phase, or with `interrupt`. */
  readonly trafficEnd: AbortSignal;
  /** Why the run stopped early ("SIGINT", "SIGTERM", the watchdog), or null. */
  readonly interruptedBy: string | null;
  /** Ends the traffic phase. */
  endTraffic(): void;
  /** Stops the run early, for the reason `why` (only the first counts). */
  stopNow(why: string): void;
  /** Removes the signal listeners. */
  dispose(): void;
}

/** A stop switch that SIGINT and SIGTERM throw, from now until `dispose`. */
export function createStopSwitch(): StopSwitch {
  const interrupt = new AbortController();
  const trafficEnd = new AbortController();
  let interruptedBy: string | null = null;
  const stopNow = (why: string) => {
    if (interruptedBy !== null) return;
    interruptedBy = why;
    console.error(`\nStopping early (${why}); cleaning up…`);
    interrupt.abort();
    trafficEnd.abort();
  };
  const onSigint = () => stopNow("SIGINT");
  const onSigterm = () => stopNow("SIGTERM");
  Deno.addSignalListener("SIGINT", onSigint);
  Deno.addSignalListener("SIGTERM", onSigterm);
  return {
    interrupt: interrupt.signal,
    trafficEnd: trafficEnd.signal,
    get interruptedBy() {
      return interruptedBy;
    },
    endTraffic: () => trafficEnd.abort(),
    stopNow,
    dispose() {
      Deno.removeSignalListener("SIGINT", onSigint);
      Deno.removeSignalListener("SIGTERM", onSigterm);
    },
  };
}
