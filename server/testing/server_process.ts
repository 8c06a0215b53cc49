/** A Plaza instance in its own process, as an operator runs it (server/main.ts). */
export interface ServerProcess {
  url: string;
  pid: number;
  child: Deno.ChildProcess;
  /** Everything the process wrote to stderr so far, once it has exited. */
  stderr: Promise<string>;
  /** Waits for the process to exit (after a signal) and releases its pipes. */
  exited(): Promise<Deno.CommandStatus>;
  /** Sends SIGKILL if still running and waits for the exit. */
  kill(): Promise<void>;
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Starts `deno run server/main.ts` with `env` on 127.0.0.1 and a free port; resolves once it listens. */
export async function startServerProcess(
  env: Record<string, string>,
  permissions: string[] = ["--allow-all"],
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, MAIN],
    env: {
      PORT: "0",
      HOST: "127.0.0.1",
      DIST_DIR: "./no-client-here",
      POST_RATE: "100000/1s",
      POST_BURST: "100000",
      STREAMS_PER_ADDRESS: "100000",
      ...env,
    },
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
      throw new Error(`server exited before listening: ${await stderr}`);
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
  return {
    url: match[1],
    pid: child.pid,
    child,
    stderr,
    exited,
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await exited();
    },
  };
}

/** Resident memory of a process in bytes, from /proc. */
export async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = status.match(/^VmRSS:\s+(\d+) kB/m);
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}
