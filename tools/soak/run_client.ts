import { connect } from "./client_stream.ts";
import { postWhileConnected } from "./poster.ts";
import { between, logBetween } from "./random.ts";
import { newestId } from "./requests.ts";
import type { SimClient } from "./sim_client.ts";
import { sleep } from "./sleep.ts";
import { liveInstance, type World } from "./world.ts";

/** The life of one client until the traffic phase ends: connect, read and post, leave, come back. */
export async function runClient(
  world: World,
  client: SimClient,
): Promise<void> {
  const { rng } = client;
  const { traffic, tally } = world;
  // Spread the first connects over the warm-up rather than all at once.
  await sleep(between(rng, 0, 3000), traffic);
  while (!traffic.aborted) {
    const instance = liveInstance(world, rng);
    if (instance === null) return;
    const session = await connect(world, client, instance, () => {}, traffic);
    if (session === null) {
      await sleep(between(rng, 1000, 3000), traffic);
      continue;
    }
    tally.openStreams++;
    const sessionEnd = new AbortController();
    const ended = AbortSignal.any([traffic, sessionEnd.signal]);
    if (client.since === null) {
      // Asked only now that the stream is subscribed: any id above this
      // commits later, so its notification must reach this stream.
      client.since = await newestId(world, instance);
    }
    const posting = postWhileConnected(world, client, ended);
    const outcome = await Promise.race([
      sleep(logBetween(rng, 3000, 90_000), ended).then(() => null),
      session.finished,
    ]);
    sessionEnd.abort();
    await session.close();
    await posting;
    tally.openStreams--;
    if (outcome === "ended") {
      tally.endedByServer++;
      tally.note(
        "stream ended by the server",
        `${client.author} on ${instance.name}`,
      );
    } else if (outcome === "failed") {
      tally.error(`GET ${instance.name}/stream`, "stream broke while reading");
    }
    const r = rng();
    const off = r < 0.1
      ? between(rng, 0, 100) // a network flap
      : r < 0.8
      ? logBetween(rng, 500, 10_000)
      : logBetween(rng, 10_000, 40_000); // away for a while
    await sleep(off, traffic);
  }
}
