/**
 * `DATABASE_URL=postgres://… deno run -A tools/docker_steps.ts`: replays the
 * Dockerfile without Docker (the dev machines and CI have no engine).
 *
 * It reads the Dockerfile itself, so the replay cannot drift from it: each
 * stage gets a temp directory standing for its WORKDIR, COPY copies from the
 * repository (minus .dockerignore) or from an earlier stage, RUN runs the very
 * shell command, and the final stage's CMD, with its permission flags, starts
 * the server against DATABASE_URL. Then it checks what a deployment relies on:
 * the client is served, a posted message arrives on /stream, the HEALTHCHECK
 * command passes, the runtime stage holds no build-only packages, and SIGTERM
 * exits cleanly. test/system/docker_steps_test.ts runs it against the test database.
 *
 * It never reaches the network: the machine's Deno cache stands in for the
 * registry in the first stage, later stages start from an empty cache, and
 * every request to a registry fails at once (see runDockerSteps).
 *
 * What it cannot show: the base image's own contents, the `deno` user's file
 * ownership (`chown` is a no-op here, there is no such user) and the absolute
 * /app paths, which are left as written.
 */

import { startListening } from "../test/harness/server_process.ts";

/** One Dockerfile instruction, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
}

/** One `FROM … [AS name]` stage and its instructions. */
export interface Stage {
  from: string;
  name: string | null;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages; comments dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    // Docker drops comment lines inside a continued instruction too.
    if (line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const whole = (pending + line).trim();
    pending = "";
    if (whole === "") continue;
    const space = whole.search(/\s/);
    const keyword = whole.slice(0, space).toUpperCase();
    const args = whole.slice(space).trim();
    if (keyword === "FROM") {
      const m = args.match(/^(\S+)(?:\s+AS\s+(\S+))?$/i);
      if (!m) throw new Error(`cannot read FROM ${args}`);
      stages.push({ from: m[1], name: m[2] ?? null, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${keyword} before any FROM`);
    stage.instructions.push({ keyword, args });
  }
  return stages;
}

/** The JSON (exec) form of CMD or HEALTHCHECK … CMD; the shell form is refused, it would need a shell in the image. */
export function execForm(args: string): string[] {
  const json = args.replace(/^(--\S+\s+)*CMD\s+/i, "");
  const parsed: unknown = JSON.parse(json);
  if (
    !Array.isArray(parsed) || !parsed.every((a) => typeof a === "string")
  ) {
    throw new Error(`not an exec-form command: ${args}`);
  }
  return parsed;
}

/** `KEY=value KEY2=value2` of ENV (no quoting: Plaza's Dockerfile needs none). */
function parseEnv(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of args.split(/\s+/)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`cannot read ENV ${args}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** .dockerignore patterns as regexes over context-relative paths. */
function ignoreMatcher(text: string): (path: string) => boolean {
  const patterns = text.split("\n").map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((p) => {
      const re = p.replace(/\/+$/, "").replace(/[.+^${}()|[\]]/g, "\\$&")
        .replace(/\*\*\//g, "\u0000").replace(/\*/g, "[^/]*")
        .replace(/\?/g, "[^/]").replaceAll("\u0000", "(?:.*/)?");
      // A matched directory excludes everything under it.
      return new RegExp(`^${re}(?:/.*)?$`);
    });
  return (path) => patterns.some((re) => re.test(path));
}

async function copyTree(
  src: string,
  dest: string,
  relPath: string,
  ignored: (path: string) => boolean,
): Promise<void> {
  if (ignored(relPath)) return;
  const info = await Deno.stat(src);
  if (info.isDirectory) {
    await Deno.mkdir(dest, { recursive: true });
    for await (const entry of Deno.readDir(src)) {
      await copyTree(
        `${src}/${entry.name}`,
        `${dest}/${entry.name}`,
        relPath === "" ? entry.name : `${relPath}/${entry.name}`,
        ignored,
      );
    }
  } else {
    await Deno.copyFile(src, dest);
  }
}

/** GET / answers the built HTML shell, which links the hashed assets. */
export async function checkClientServed(baseUrl: string): Promise<void> {
  const res = await fetch(`${baseUrl}/`);
  const html = await res.text();
  if (
    res.status !== 200 ||
    !res.headers.get("content-type")?.startsWith("text/html") ||
    !/\/assets\/main-[^"]+\.js/.test(html)
  ) {
    throw new Error(
      `GET / answered ${res.status} ${res.headers.get("content-type")}: ${
        html.slice(0, 200)
      }`,
    );
  }
}

/** Opens /stream, posts a message and waits (at most `timeoutMs`) for it to arrive on the stream. */
export async function checkChatRoundTrip(
  baseUrl: string,
  timeoutMs = 10_000,
): Promise<void> {
  const stream = await fetch(`${baseUrl}/stream?history=0`, {
    headers: { Accept: "text/event-stream" },
  });
  if (stream.status !== 200 || !stream.body) {
    await stream.body?.cancel();
    throw new Error(`GET /stream answered ${stream.status}`);
  }
  // Cancel the reader itself, not only the request: see the streaming-fetch
  // note in shared/notes/deno-here.md.
  const reader = stream.body.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => reader.cancel(), timeoutMs);
  try {
    const text = `round trip ${crypto.randomUUID()}`;
    const posted = await fetch(`${baseUrl}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ author: "docker-steps", text }),
    });
    const body = await posted.text();
    if (posted.status !== 201) {
      throw new Error(`POST /messages answered ${posted.status}: ${body}`);
    }
    let seen = "";
    while (!seen.includes(JSON.stringify(text))) {
      const { done, value } = await reader.read();
      if (done) {
        throw new Error(
          `the posted message did not arrive on /stream within ${timeoutMs} ms`,
        );
      }
      seen += value;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel();
  }
}

/** Runs `command args…` in `cwd`, inheriting nothing but `env`; throws unless it exits 0. */
async function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<void> {
  const out = await new Deno.Command(command, {
    args,
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    throw new Error(
      `\`${command} ${args.join(" ")}\` exited ${out.code}:\n${
        decode(out.stdout)
      }${decode(out.stderr)}`,
    );
  }
}

/** Packages the runtime stage must not carry: the client's and the tools'. */
export const BUILD_ONLY_PACKAGES = [
  "esbuild",
  "preact",
  "@preact/signals",
  "playwright-core",
  "axe-core",
];

export interface DockerStepsOptions {
  /** postgres://… the server runs against. */
  databaseUrl: string;
  /** The build context; defaults to this repository. */
  root?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Replays the Dockerfile and checks the resulting server; throws on the first failure. */
export async function runDockerSteps(
  options: DockerStepsOptions,
): Promise<void> {
  const root = options.root ??
    new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const log = options.log ?? (() => {});
  const stages = parseDockerfile(
    await Deno.readTextFile(`${root}/Dockerfile`),
  );
  const ignored = ignoreMatcher(
    await Deno.readTextFile(`${root}/.dockerignore`).catch(() => ""),
  );
  const temp = await Deno.makeTempDir({ prefix: "plaza-docker-steps-" });
  try {
    // RUN lines call `deno` and `chown` from PATH: put this Deno first, and a
    // chown that does nothing (there is no `deno` user outside the image).
    const bin = `${temp}/bin`;
    await Deno.mkdir(bin);
    await Deno.symlink(Deno.execPath(), `${bin}/deno`);
    await Deno.writeTextFile(`${bin}/chown`, "#!/bin/sh\nexit 0\n", {
      mode: 0o755,
    });
    // The replay must not reach the network, whatever the machine allows: a
    // proxy on a closed port makes every registry request fail at once. The
    // machine's Deno cache (filled by `deno install --frozen` before the
    // tests) stands in for the registry in the first stage, the only one the
    // Dockerfile lets fetch; every later stage starts from an empty cache, as
    // a fresh base image does, so a step there that would download fails here.
    const noNetwork = "http://127.0.0.1:9";
    const baseEnv: Record<string, string> = {
      PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      HOME: Deno.env.get("HOME") ?? temp,
      HTTP_PROXY: noNetwork,
      HTTPS_PROXY: noNetwork,
      // The HEALTHCHECK and the checks talk to the server on loopback.
      NO_PROXY: "127.0.0.1,localhost",
    };
    const machineCache = Deno.env.get("DENO_DIR");
    if (machineCache) baseEnv.DENO_DIR = machineCache;

    const dirs = new Map<string, string>();
    let workdir = "";
    let imageEnv: Record<string, string> = {};
    let cmd: string[] | null = null;
    let healthcheck: string[] | null = null;
    let stageEnv = baseEnv;
    for (const [i, stage] of stages.entries()) {
      const dir = `${temp}/stage${i}`;
      await Deno.mkdir(dir);
      dirs.set(stage.name ?? String(i), dir);
      stageEnv = { ...baseEnv };
      if (i > 0) {
        stageEnv.DENO_DIR = `${temp}/deno-dir${i}`;
        await Deno.mkdir(stageEnv.DENO_DIR);
      }
      workdir = "";
      imageEnv = {};
      cmd = null;
      healthcheck = null;
      log(`FROM ${stage.from}${stage.name ? ` AS ${stage.name}` : ""}`);
      // The replay maps WORKDIR onto the stage's directory.
      const inStage = (path: string) => {
        if (path.startsWith(`${workdir}/`) || path === workdir) {
          return dir + path.slice(workdir.length);
        }
        if (path.startsWith("/")) {
          throw new Error(`path outside WORKDIR ${workdir}: ${path}`);
        }
        return `${dir}/${path}`;
      };
      for (const { keyword, args } of stage.instructions) {
        switch (keyword) {
          case "WORKDIR":
            workdir = args.replace(/\/$/, "");
            break;
          case "COPY": {
            const words = args.split(/\s+/);
            const from = words[0].startsWith("--from=")
              ? words.shift()!.slice("--from=".length)
              : null;
            const dest = inStage(words.pop()!);
            for (const src of words) {
              let source: string;
              let rel: string;
              if (from === null) {
                rel = src.replace(/^\.\//, "").replace(/\/$/, "");
                source = `${root}/${rel}`;
              } else {
                const other = dirs.get(from);
                if (!other) throw new Error(`COPY --from=${from}: no stage`);
                // Earlier stages share this WORKDIR layout.
                source = other + src.slice(workdir.length);
                rel = "";
              }
              // As in Docker: a directory's contents go into dest, a file
              // goes into a dest ending in "/" under its own name.
              const isDir = (await Deno.stat(source)).isDirectory;
              const target = isDir
                ? dest.replace(/\/+$/, "")
                : dest.endsWith("/")
                ? `${dest}${source.split("/").pop()}`
                : dest;
              await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), {
                recursive: true,
              });
              // .dockerignore applies to the build context only.
              await copyTree(
                source,
                target,
                rel,
                from === null ? ignored : () => false,
              );
            }
            log(`COPY ${args}`);
            break;
          }
          case "RUN":
            log(`RUN ${args.slice(0, 100)}`);
            await run("sh", ["-c", args], dir, stageEnv);
            break;
          case "ENV":
            imageEnv = { ...imageEnv, ...parseEnv(args) };
            break;
          case "CMD":
            cmd = execForm(args);
            break;
          case "HEALTHCHECK":
            healthcheck = execForm(args);
            break;
          case "USER":
          case "EXPOSE":
            break;
          default:
            throw new Error(`docker_steps.ts does not replay ${keyword}`);
        }
      }
    }
    if (cmd === null) throw new Error("the final stage has no CMD");
    const runtime = `${temp}/stage${stages.length - 1}`;

    for (const name of BUILD_ONLY_PACKAGES) {
      const there = await Deno.stat(`${runtime}/node_modules/${name}`).then(
        () => true,
        () => false,
      );
      if (there) throw new Error(`the runtime stage carries ${name}`);
    }
    log(`runtime stage free of ${BUILD_ONLY_PACKAGES.join(", ")}`);

    // The image's entrypoint prefixes `deno` to a CMD starting with a
    // subcommand. PORT=0: a free port here instead of the image's 8000.
    const argv = cmd[0] === "deno" ? cmd.slice(1) : cmd;
    log(`CMD deno ${argv.join(" ")}`);
    const server = await startListening(Deno.execPath(), argv, {
      cwd: runtime,
      // An image gets only its ENV and the runtime's, not the builder's shell.
      clearEnv: true,
      env: {
        ...stageEnv,
        ...imageEnv,
        PORT: "0",
        HOST: "127.0.0.1",
        DATABASE_URL: options.databaseUrl,
      },
    });
    let stopped = false;
    try {
      log(`listening on ${server.url}`);
      await checkClientServed(server.url);
      log("GET / serves the built client");
      await checkChatRoundTrip(server.url);
      log("POST /messages arrives on /stream");
      if (healthcheck === null) throw new Error("no HEALTHCHECK");
      const [hcCommand, ...hcArgs] = healthcheck;
      await run(
        hcCommand === "deno" ? Deno.execPath() : hcCommand,
        hcArgs,
        runtime,
        { ...stageEnv, ...imageEnv, PORT: new URL(server.url).port },
      );
      log("HEALTHCHECK passes");
      stopped = true;
      const { code, stderr } = await server.stop();
      if (code !== 0) throw new Error(`SIGTERM: exit ${code}\n${stderr}`);
      log("SIGTERM: clean exit");
    } finally {
      if (!stopped) await server.stop();
    }
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
}

if (import.meta.main) {
  const databaseUrl = Deno.env.get("DATABASE_URL");
  if (!databaseUrl) {
    console.error("DATABASE_URL=postgres://… is required");
    Deno.exit(2);
  }
  try {
    await runDockerSteps({ databaseUrl, log: (l) => console.log(l) });
    console.log("ok");
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
