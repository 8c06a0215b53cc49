/** Catches what the in-process server logs as errors: a 500 to a client that already hung up shows up here even when no answer does. */

/** The error lines collected so far, and the way to give console.error back. */
export interface ErrorCapture {
  logged: string[];
  stop(): void;
}

/** Collects every console.error line (the server runs in this process) until stop(). */
export function captureConsoleErrors(): ErrorCapture {
  const logged: string[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => {
    logged.push(
      args.map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(" "),
    );
  };
  return {
    logged,
    stop() {
      console.error = consoleError;
    },
  };
}
