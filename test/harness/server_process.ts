/** A server running as a subprocess, once it printed `listening on http://…`. */
export interface ServerProcess {
  url: string;
  pid: number;
  child: Deno.ChildProcess;
  /** Everything the process wrote to stderr, once it has exited. */
  stderr: Promise<string>;
  /** Waits for the process to exit (after a signal) and releases its pipes. */
  exited(): Promise<Deno.CommandStatus>;
  /** Sends SIGTERM (if still running) and returns the exit code and stderr. */
  stop(): Promise<{ code: number; stderr: string }>;
  /** Sends SIGKILL if still running and waits for the exit. */
  kill(): Promise<void>;
}

/** How to start a process with startListening. */
export interface ListeningOptions {
  env: Record<string, string>;
  cwd?: string;
  /** Start from an empty environment (as a container image does). */
  clearEnv?: boolean;
}

/** Starts `command args…` and resolves once it prints `listening on http://…`. */
export async function startListening(
  command: string,
  args: string[],
  options: ListeningOptions,
): Promise<ServerProcess> {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: options.clearEnv ?? false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let match: RegExpMatchArray | null = null;
  while (match === null) {
    const { done, value } = await lines.read();
    if (done) {
      await child.status;
      throw new Error(`server exited before listening:\n${await stderr}`);
    }
    out += value;
    match = out.match(/listening on (http:\/\/\S+)/);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  const drained = (async () => {
    while (!(await lines.read()).done) {
      // discard
    }
  })();
  let status: Promise<Deno.CommandStatus> | null = null;
  const exited = () => {
    status ??= (async () => {
      const s = await child.status;
      await drained;
      await stderr;
      return s;
    })();
    return status;
  };
  const signal = async (name: Deno.Signal) => {
    try {
      child.kill(name);
    } catch {
      // Already gone.
    }
    return await exited();
  };
  return {
    url: match[1],
    pid: child.pid,
    child,
    stderr,
    exited,
    async stop() {
      const s = await signal("SIGTERM");
      return { code: s.code, stderr: await stderr };
    },
    async kill() {
      await signal("SIGKILL");
    },
  };
}

const MAIN = new URL("../../server/main.ts", import.meta.url).pathname;

/** Starts `deno run server/main.ts` with `env` on 127.0.0.1 and a free port; resolves once it listens. */
export function startServerProcess(
  env: Record<string, string>,
  permissions: string[] = ["--allow-all"],
): Promise<ServerProcess> {
  return startListening(Deno.execPath(), ["run", ...permissions, MAIN], {
    env: {
      PORT: "0",
      HOST: "127.0.0.1",
      DIST_DIR: "./no-client-here",
      POST_RATE: "100000/1s",
      POST_BURST: "100000",
      STREAMS_PER_ADDRESS: "100000",
      SLOW_MODE_AUTO: "off",
      // Messages in tests link to public names (https://example.com):
      // previewing them would resolve those. Preview tests turn it on.
      LINK_PREVIEWS: "off",
      ...env,
    },
  });
}

/**
 * Opens `path` on the server as a raw HTTP/1.1 stream, reads up to the hello
 * event (so the stream is subscribed), then never reads again: a client that
 * stopped reading.
 */
export async function openStalledStream(
  baseUrl: string,
  path: string,
): Promise<Deno.Conn> {
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: Number(new URL(baseUrl).port),
  });
  await conn.write(
    new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`),
  );
  const chunk = new Uint8Array(4096);
  let head = "";
  while (!head.includes("event: hello")) {
    const n = await conn.read(chunk);
    if (n === null) {
      conn.close();
      throw new Error("stalled stream closed early");
    }
    head += new TextDecoder().decode(chunk.subarray(0, n));
  }
  return conn;
}

/** Resident memory of a process in bytes, from /proc. */
export async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = status.match(/^VmRSS:\s+(\d+) kB/m);
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}
