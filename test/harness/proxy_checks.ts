// What every shipped proxy config (deploy/) must do in front of two Plaza
// instances, checked against the real proxy: test/system/nginx_test.ts,
// haproxy_test.ts and caddy_test.ts each start theirs from the file in
// deploy/ and run these checks.
import assert from "node:assert/strict";
import type { Message } from "../../protocol/message.ts";
import type { Plaza } from "../../server/plaza.ts";
import { startTestInstance, withTestDatabase } from "./fixtures.ts";
import { messageEvents, openSse, type SseClient } from "./sse_client.ts";

/** Streams per client address on each instance: small, so a client runs out. */
const STREAMS_PER_ADDRESS = 2;
/** Longest a check waits for something that should take milliseconds. */
const DEADLINE_MS = 20_000;
/** Posts made before, while and after an instance is down, at least. */
const POSTS_PER_PHASE = 5;
/** How soon a stream the browser closed must be gone on the instance. */
const LEFT_STREAM_MS = 5_000;
/** Interval of eventually()'s polls. */
const POLL_MS = 20;
/** Events timed for the unbuffered-delivery check. */
const TIMED_EVENTS = 5;
/**
 * Median time from a POST's answer to its event, beyond which the proxy is
 * holding events back (HAProxy without http-no-delay: about 200 ms).
 */
const MAX_MEDIAN_DELAY_MS = 100;

/** A proxy process started for a test. */
export interface RunningProxy {
  /** http://127.0.0.1:port */
  url: string;
  /** Everything it wrote so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** How to run one proxy from its shipped config. */
export interface ProxySetup {
  /** e.g. "nginx" */
  name: string;
  /** The binary's name; the test is skipped (and says so) when it is not installed. */
  binary: string;
  /** Debian package that provides it. */
  packageName: string;
  /** Starts `binary` (the path found) on 127.0.0.1:`port` in front of `upstreams` (host:port), with `dir` for its files. */
  start(
    binary: string,
    dir: string,
    port: number,
    upstreams: readonly [string, string],
  ): Promise<RunningProxy>;
  /** Whether it resends a POST that met a restarting instance (Caddy 2.6 cannot). */
  retriesPosts: boolean;
  /** Why a stream the browser left stays open upstream for a while, if it does (Caddy 2.6). */
  lingeringStreams?: string;
}

/** Where `name` is installed (PATH, then Debian's sbin folders), or null. */
export function findBinary(name: string): string | null {
  const path = Deno.env.get("PATH") ?? "";
  for (const dir of [...path.split(":"), "/usr/sbin", "/usr/bin", "/sbin"]) {
    if (dir === "") continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // Not here.
    }
  }
  return null;
}

/** A port nothing listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** `text` with `from` replaced by `to`, failing unless `from` occurs exactly once (so the shipped file cannot drift from what the test changes). */
export function replaceOnce(text: string, from: string, to: string): string {
  const count = text.split(from).length - 1;
  assert.equal(
    count,
    1,
    `expected "${from}" once in the config, found ${count}`,
  );
  return text.replace(from, () => to);
}

/**
 * Starts `command` and resolves once its stdout or stderr matches `ready`;
 * keeps draining both so it never blocks on a full pipe.
 */
export async function startProcess(
  command: string,
  args: string[],
  ready: RegExp,
  env: Record<string, string> = {},
): Promise<{ output(): string; stop(): Promise<void> }> {
  const child = new Deno.Command(command, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  let onOutput = () => {};
  const drain = async (stream: ReadableStream<Uint8Array<ArrayBuffer>>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      output += text;
      onOutput();
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const status = child.status;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await status;
    await drained;
  };
  const started = await Promise.race([
    new Promise<boolean>((resolve) => {
      onOutput = () => {
        if (ready.test(output)) resolve(true);
      };
      onOutput();
    }),
    status.then(() => false),
  ]);
  onOutput = () => {};
  if (!started) {
    await drained;
    throw new Error(`${command} exited before it was ready:\n${output}`);
  }
  return { output: () => output, stop };
}

/** Resolves once `check` holds; `check` runs again on each `tick`. */
function progress() {
  const waiters = new Set<() => void>();
  return {
    tick() {
      for (const w of waiters) w();
    },
    async until(check: () => boolean | Promise<boolean>, what: string) {
      const deadline = Date.now() + DEADLINE_MS;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, DEADLINE_MS);
          function done() {
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          }
          waiters.add(done);
        });
      }
    },
  };
}

/**
 * Polls `check` until it holds. Only for what the test cannot be told
 * about, such as an instance noticing that a proxied stream was closed.
 */
async function eventually(
  check: () => Promise<boolean>,
  what: string,
  withinMs = DEADLINE_MS,
) {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The value of a counter or gauge at an instance's /metrics. */
async function metric(instance: Plaza, name: string): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1] ?? 0);
}

/** Status and headers of a GET sent over a raw connection (fetch would undo the encoding). */
async function rawHead(
  baseUrl: string,
  path: string,
): Promise<{ status: number; headers: Headers }> {
  const url = new URL(baseUrl);
  const conn = await Deno.connect({
    hostname: url.hostname,
    port: Number(url.port),
  });
  try {
    await conn.write(new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`,
    ));
    const chunk = new Uint8Array(16_384);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(chunk);
      if (n === null) {
        throw new Error(`connection closed in the head:\n${head}`);
      }
      head += new TextDecoder("latin1").decode(chunk.subarray(0, n));
    }
    const [statusLine, ...lines] = head.split("\r\n\r\n")[0].split("\r\n");
    const headers = new Headers();
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    return { status: Number(statusLine.split(" ")[1]), headers };
  } finally {
    conn.close();
  }
}

async function post(
  baseUrl: string,
  text: string,
  init: { clientId?: string; origin?: string } = {},
): Promise<Response> {
  return await fetch(`${baseUrl}/messages`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(init.origin ? { Origin: init.origin } : {}),
    },
    body: JSON.stringify({ author: "ada", text, clientId: init.clientId }),
  });
}

/**
 * A reader that acts like a browser's EventSource: when its stream ends it
 * connects again at once with Last-Event-ID, and a reconnect answered with
 * anything but 200 ends it for good (as EventSource does).
 */
function resumingReader(
  url: string,
  lastId: number,
  client: Deno.HttpClient,
) {
  const ids: number[] = [];
  const statuses: number[] = [];
  let current: SseClient | null = null;
  let closed = false;
  const changed = progress();
  const seen = () => [...ids, ...(current ? idsOf(current) : [])];
  const refused = () => {
    if (statuses.some((s) => s !== 200)) {
      throw new Error(`the stream was answered ${statuses.join(", ")}`);
    }
  };
  const loop = (async () => {
    while (!closed) {
      const from = seen().at(-1) ?? lastId;
      if (current) ids.push(...idsOf(current));
      current = null;
      let sse: SseClient;
      try {
        sse = await openSse(`${url}/stream`, { lastEventId: from, client });
      } catch {
        // No answer at all: EventSource would try again, but a proxy in
        // front of a live instance should never come to that.
        statuses.push(0);
        changed.tick();
        break;
      }
      if (closed) {
        await sse.close();
        break;
      }
      statuses.push(sse.response.status);
      current = sse;
      changed.tick();
      if (sse.response.status !== 200) break;
      await sse.until((e) => e.some((x) => x.event === "hello")).catch(
        () => {},
      );
      changed.tick();
      // Each event wakes whoever waits for an id.
      await sse.until(() => {
        changed.tick();
        return false;
      }).catch(() => {});
    }
  })();
  return {
    ids: seen,
    statuses,
    connections: () => statuses.length,
    async untilId(id: number) {
      await changed.until(() => {
        refused();
        return (seen().at(-1) ?? 0) >= id;
      }, `the reader to see message ${id}`);
    },
    async untilLive() {
      await changed.until(() => {
        refused();
        return current?.events.some((e) => e.event === "hello") ?? false;
      }, "the reader's stream to open");
    },
    async close() {
      closed = true;
      await current?.close();
      await loop;
    },
  };
}

function idsOf(sse: SseClient): number[] {
  return messageEvents(sse).map((e) => Number(e.id));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Registers the checks of `setup` as one Deno.test (skipped, and saying why, without the binary). */
export function proxyTest(setup: ProxySetup): void {
  const binary = findBinary(setup.binary);
  if (binary === null) {
    console.warn(
      `${setup.name} tests skipped: no ${setup.binary} on this machine (apt-get install ${setup.packageName}; .ci/run installs it).`,
    );
  }
  Deno.test({
    name:
      `${setup.name} from deploy/ in front of two instances: origins, streaming, client addresses, a rolling restart`,
    ignore: binary === null,
    fn: (t) =>
      withTestDatabase((dbUrl) => runChecks(t, setup, binary ?? "", dbUrl)),
  });
}

async function runChecks(
  t: Deno.TestContext,
  setup: ProxySetup,
  binary: string,
  dbUrl: string,
): Promise<void> {
  const env = {
    // The proxy connects from 127.0.0.1; test clients that must count as
    // clients of their own connect from 127.0.0.2 and up.
    TRUST_PROXY: "127.0.0.1",
    STREAMS_PER_ADDRESS: String(STREAMS_PER_ADDRESS),
  };
  const instances: Plaza[] = [];
  const clients: Deno.HttpClient[] = [];
  const clientAt = (address: string) => {
    const client = Deno.createHttpClient({ localAddress: address });
    clients.push(client);
    return client;
  };
  const dir = await Deno.makeTempDir({ prefix: `plaza-${setup.name}-` });
  let proxy: RunningProxy | null = null;
  try {
    instances.push(await startTestInstance(dbUrl, env));
    instances.push(await startTestInstance(dbUrl, env));
    proxy = await setup.start(binary, dir, freePort(), [
      `127.0.0.1:${instances[0].port}`,
      `127.0.0.1:${instances[1].port}`,
    ]);
    const url = proxy.url;

    await t.step({
      name: setup.lingeringStreams === undefined
        ? "a stream the browser leaves is closed on the instance at once"
        : `a stream the browser leaves is closed on the instance at once: not checked, ${setup.lingeringStreams}`,
      ignore: setup.lingeringStreams !== undefined,
      fn: async () => {
        const total = async () =>
          (await Promise.all(
            instances.map((i) => metric(i, "plaza_open_streams")),
          )).reduce((a, b) => a + b);
        const sse = await openSse(`${url}/stream?history=0`, {
          client: clientAt("127.0.0.6"),
        });
        await sse.until((e) => e.some((x) => x.event === "hello"));
        assert.equal(await total(), 1);
        await sse.close();
        // Well within the heartbeat (15 s), whose failed write would
        // otherwise be the first sign that the browser left.
        await eventually(
          async () => await total() === 0,
          "the instance to close the stream",
          LEFT_STREAM_MS,
        );
      },
    });

    await t.step(
      "a browser's POST on a non-default port is the app's own (201); another site's is refused",
      async () => {
        const own = await post(url, "x".repeat(500), { origin: url });
        const body = await own.text();
        assert.equal(own.status, 201, body);
        const other = await post(url, "hi", { origin: "http://evil.example" });
        assert.equal(other.status, 403);
        await other.body?.cancel();
      },
    );

    await t.step(
      "events pass one by one while the stream stays open; the stream is never compressed, other answers are",
      async () => {
        const sse = await openSse(`${url}/stream?history=0`);
        try {
          assert.equal(sse.response.status, 200);
          await sse.until((e) => e.some((x) => x.event === "hello"));
          const delays: number[] = [];
          for (let i = 0; i < TIMED_EVENTS; i++) {
            const res = await post(url, `timed ${i}`);
            const answered = performance.now();
            const { id } = await res.json() as Message;
            await sse.until((e) => e.some((x) => Number(x.id) === id));
            delays.push(performance.now() - answered);
          }
          assert.ok(
            median(delays) < MAX_MEDIAN_DELAY_MS,
            `events held back: ${
              delays.map((d) => d.toFixed(0)).join(", ")
            } ms`,
          );
        } finally {
          await sse.close();
        }
        const stream = await rawHead(url, "/stream?history=0");
        assert.equal(stream.status, 200);
        assert.match(stream.headers.get("content-type") ?? "", /event-stream/);
        assert.equal(stream.headers.get("content-encoding"), null);
        const json = await rawHead(url, "/messages?limit=50");
        assert.equal(json.status, 200);
        assert.equal(json.headers.get("content-encoding"), "gzip");
      },
    );

    await t.step(
      "each client behind the proxy has its own stream budget, whatever X-Forwarded-For it sends",
      async () => {
        const x = clientAt("127.0.0.2");
        const held: SseClient[] = [];
        try {
          // Until x holds its budget, which counts across both instances
          // (the count is shared through the database).
          for (
            let i = 0;
            held.length < STREAMS_PER_ADDRESS && i < 20;
            i++
          ) {
            const sse = await openSse(`${url}/stream?history=0`, {
              client: x,
              headers: { "X-Forwarded-For": `203.0.113.${i}` },
            });
            if (sse.response.status === 200) {
              held.push(sse);
            } else {
              assert.equal(sse.response.status, 429);
              await sse.close();
            }
          }
          assert.equal(held.length, STREAMS_PER_ADDRESS);
          // Full, on whichever instance the proxy picks: a new claim changes
          // nothing…
          for (const claim of ["198.51.100.1", "127.0.0.1"]) {
            const spoofed = await openSse(`${url}/stream?history=0`, {
              client: x,
              headers: { "X-Forwarded-For": claim },
            });
            await spoofed.close();
            assert.equal(spoofed.response.status, 429, `claiming ${claim}`);
          }
          // …while another client has a budget of its own.
          const y = await openSse(`${url}/stream?history=0`, {
            client: clientAt("127.0.0.3"),
          });
          await y.close();
          assert.equal(y.response.status, 200);
        } finally {
          await Promise.all(held.map((s) => s.close()));
        }
      },
    );

    await t.step(
      "X-Forwarded-For sent straight to an instance is ignored",
      async () => {
        const z = clientAt("127.0.0.4");
        const held: SseClient[] = [];
        try {
          for (let i = 0; i < STREAMS_PER_ADDRESS; i++) {
            const sse = await openSse(`${instances[0].url}/stream?history=0`, {
              client: z,
              headers: { "X-Forwarded-For": `203.0.113.${i}` },
            });
            held.push(sse);
            assert.equal(sse.response.status, 200);
          }
          const spoofed = await openSse(
            `${instances[0].url}/stream?history=0`,
            {
              client: z,
              headers: { "X-Forwarded-For": "203.0.113.99" },
            },
          );
          await spoofed.close();
          assert.equal(spoofed.response.status, 429);
        } finally {
          await Promise.all(held.map((s) => s.close()));
        }
      },
    );

    await t.step("a rolling restart loses no reader and no post", async () => {
      await rollingRestart(setup, url, instances, dbUrl, env, {
        // An address of its own: streams other checks closed may still
        // count against theirs (see lingeringStreams).
        reader: clientAt("127.0.0.5"),
      });
    });
  } catch (error) {
    if (proxy) console.error(`${setup.name} output:\n${proxy.output()}`);
    throw error;
  } finally {
    // Instances first: they end their streams, so the proxy has none left
    // to wait for.
    await Promise.all(instances.map((i) => i.close()));
    await proxy?.stop();
    for (const client of clients) client.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function rollingRestart(
  setup: ProxySetup,
  url: string,
  instances: Plaza[],
  dbUrl: string,
  env: Record<string, string>,
  clients: { reader: Deno.HttpClient },
): Promise<void> {
  const first = await post(url, "before the restart");
  const start = (await first.json() as Message).id;
  const opened = () =>
    Promise.all(instances.map((i) => metric(i, "plaza_streams_opened_total")));
  const openedBefore = await opened();
  const reader = resumingReader(url, start, clients.reader);
  const posted: number[] = [];
  const failed: number[] = [];
  const posts = progress();
  let writing = true;
  let writerError: unknown = null;
  const checkWriter = () => {
    if (writerError !== null) throw writerError;
  };
  const untilPosts = (
    check: () => boolean | Promise<boolean>,
    what: string,
  ) =>
    posts.until(async () => {
      checkWriter();
      return await check();
    }, what);
  const writer = (async () => {
    for (let k = 0; writing; k++) {
      // As the web client does: a send that failed goes again with the
      // same clientId, and a repeat gets the stored message back.
      const clientId = crypto.randomUUID();
      for (let attempt = 0;; attempt++) {
        const res = await post(url, `rolling ${k}`, { clientId });
        if (res.status === 201) {
          posted.push((await res.json() as Message).id);
          break;
        }
        failed.push(res.status);
        await res.body?.cancel();
        if (attempt === 10) throw new Error(`post ${k} kept failing`);
      }
      posts.tick();
    }
  })().catch((error) => {
    writerError = error;
    posts.tick();
  });
  try {
    await reader.untilLive();
    // Which instance holds the reader's stream: the one that opened one.
    const added = (await opened()).map((n, i) => n - openedBefore[i]);
    assert.deepEqual([...added].sort(), [0, 1], `streams opened: ${added}`);
    // A rolling restart as an orchestrator does it: one instance at a time,
    // the next as soon as the restarted one is up (not when the proxy has
    // noticed). The reader's instance goes first, so the reader moves to
    // the other one and then back.
    const readers = added.indexOf(1);
    for (const index of [readers, 1 - readers]) {
      const phase = async (what: string) => {
        const from = posted.length;
        await untilPosts(() => posted.length >= from + POSTS_PER_PHASE, what);
      };
      await phase(`posts before restarting instance ${index}`);
      const { port } = instances[index];
      await instances[index].close();
      await phase(`posts while instance ${index} is down`);
      instances[index] = await startTestInstance(dbUrl, {
        ...env,
        PORT: String(port),
      });
    }
    await untilPosts(
      () => posted.length >= 3 * 2 * POSTS_PER_PHASE,
      "posts after the restarts",
    );
    writing = false;
    await writer;
    checkWriter();
    await reader.untilId(posted.at(-1)!);
    assert.deepEqual(reader.ids(), posted, "the reader saw every post once");
    assert.ok(reader.connections() >= 2, "the reader reconnected");
    assert.deepEqual(
      reader.statuses.filter((s) => s !== 200),
      [],
      "every reconnect was answered 200",
    );
    if (setup.retriesPosts) {
      assert.deepEqual(failed, [], "the proxy retried every post");
    } else {
      // Answered 502 by the proxy; sent again, stored once.
      assert.ok(failed.every((s) => s === 502), `failed: ${failed}`);
    }
  } finally {
    writing = false;
    await writer.catch(() => {});
    await reader.close();
  }
}
