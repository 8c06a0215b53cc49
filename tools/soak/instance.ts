import { ROOT } from "./paths.ts";
import type { RssSample } from "./rss.ts";

/** How long an instance may take to print its URL. */
export const START_TIMEOUT_MS = 30_000;
/** SIGTERM, then this long before SIGKILL (the server's own grace is shorter). */
const STOP_TIMEOUT_MS = 15_000;
/** Lines of an instance's output kept for the report. */
const MAX_LOG_LINES = 500;

/** A Plaza server running as a subprocess. */
export interface Instance {
  name: string;
  url: string;
  pid: number;
  process: Deno.ChildProcess;
  /** Set once the process has exited, whoever stopped it. */
  exit: Deno.CommandStatus | null;
  /** True once we sent SIGTERM: an exit before that is a crash. */
  stopping: boolean;
  /** Everything it printed after start-up, for the report. */
  log: string[];
  rss: RssSample[];
  /** Resolves when the process has exited and its output is drained. */
  done: Promise<void>;
}

async function forEachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffer = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf("\n")) !== -1) {
        onLine(buffer.slice(0, nl).replace(/\r$/, ""));
        buffer = buffer.slice(nl + 1);
      }
    }
  } catch {
    // The pipe broke with the process; whatever came is kept.
  }
  if (buffer !== "") onLine(buffer);
}

/** Starts server/main.ts on a free port of 127.0.0.1 against `databaseUrl` and waits until it listens. */
export async function startInstance(
  name: string,
  databaseUrl: string,
): Promise<Instance> {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "server/main.ts",
    ],
    cwd: ROOT,
    env: {
      DATABASE_URL: databaseUrl,
      PORT: "0",
      HOST: "127.0.0.1",
      DIST_DIR: "./no-client",
      // One address sends everything: the abuse limits would only measure
      // themselves.
      POST_RATE: "100000/1s",
      POST_BURST: "100000",
      STREAMS_PER_ADDRESS: "100000",
      // Thousands of messages a second would switch the room to slow mode.
      SLOW_MODE_AUTO: "off",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let announce!: (url: string) => void;
  const listening = new Promise<string>((resolve) => (announce = resolve));
  const log: string[] = [];
  const keep = (stream: string) => (line: string) => {
    const match = /Plaza is listening on (\S+)/.exec(line);
    if (match) return announce(match[1]);
    console.error(`[${name}] ${line}`);
    if (log.length < MAX_LOG_LINES) log.push(`${stream}: ${line}`);
  };
  const instance: Instance = {
    name,
    url: "",
    pid: process.pid,
    process,
    exit: null,
    stopping: false,
    log,
    rss: [],
    done: Promise.resolve(),
  };
  instance.done = Promise.all([
    process.status.then((s) => {
      instance.exit = s;
      if (!instance.stopping) {
        console.error(
          `[${name}] exited unexpectedly (code ${s.code}, signal ${s.signal})`,
        );
      }
    }),
    forEachLine(process.stdout, keep("stdout")),
    forEachLine(process.stderr, keep("stderr")),
  ]).then(() => {});

  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    instance.url = await Promise.race([
      listening,
      instance.done.then(() => {
        throw new Error(
          `instance ${name} exited before listening:\n${log.join("\n")}`,
        );
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `instance ${name} did not print its URL within ${
                  START_TIMEOUT_MS / 1000
                } s`,
              ),
            ),
          START_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    await stopInstance(instance);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return instance;
}

/** Stops an instance with SIGTERM (SIGKILL if it hangs), after letting it exit by itself for up to `selfExitMs`. */
export async function stopInstance(
  instance: Instance,
  selfExitMs = 0,
): Promise<void> {
  instance.stopping = true;
  if (instance.exit === null && selfExitMs > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      instance.done,
      new Promise<void>((r) => {
        timer = setTimeout(r, selfExitMs);
      }),
    ]);
    clearTimeout(timer);
  }
  if (instance.exit === null) {
    try {
      instance.process.kill("SIGTERM");
    } catch {
      // Already gone (a Ctrl-C reaches the whole process group).
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = await Promise.race([
      instance.done.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), STOP_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!stopped) {
      console.error(
        `[${instance.name}] still running ${
          STOP_TIMEOUT_MS / 1000
        } s after SIGTERM: killing it`,
      );
      try {
        instance.process.kill("SIGKILL");
      } catch {
        // Exited meanwhile.
      }
    }
  }
  await instance.done;
}
