import { connect } from "./client_stream.ts";
import { readAllMessages } from "./database_view.ts";
import type { RssSampler } from "./rss.ts";
import type { SimClient } from "./sim_client.ts";
import type { FinalState } from "./verdict.ts";
import { liveInstance, type World } from "./world.ts";

/** The final catch-up of one client; far more than reading a few thousand rows takes. */
const CATCH_UP_TIMEOUT_MS = 30_000;

/** The final resume of one client: reads until the client has seen `maxId` and the stream went live; sets `client.caughtUp`. */
async function catchUp(
  world: World,
  client: SimClient,
  maxId: number,
): Promise<void> {
  if (client.since === null) {
    client.caughtUp = false;
    return;
  }
  const instance = liveInstance(world, client.rng);
  if (instance === null) {
    client.caughtUp = false;
    return;
  }
  let live = false;
  let wake: () => void = () => {};
  const done = () => live && (client.lastId ?? 0) >= maxId;
  const session = await connect(world, client, instance, (event) => {
    // presence follows the backlog, so after it nothing older can come.
    if (event.event === "presence") live = true;
    if (done()) wake();
  }, world.interrupt);
  if (session === null) {
    client.caughtUp = false;
    return;
  }
  const timeout = new AbortController();
  const reached = new Promise<boolean>((resolve) => {
    wake = () => resolve(true);
    const timer = setTimeout(() => resolve(done()), CATCH_UP_TIMEOUT_MS);
    timeout.signal.addEventListener("abort", () => clearTimeout(timer));
    session.finished.then(() => resolve(done()));
    world.interrupt.addEventListener("abort", () => resolve(false));
  });
  const seenAll = await reached;
  timeout.abort();
  await session.close();
  client.caughtUp = seenAll;
}

/** After the traffic: reads the room's final state, then has every client catch up to it (RSS sampled before and after). */
export async function catchUpAll(
  world: World,
  clients: readonly SimClient[],
  databaseUrl: string,
  sampleRss: RssSampler,
): Promise<FinalState> {
  await sampleRss("traffic end");
  // Every POST has been answered: this is the final state of the room.
  const database = await readAllMessages(databaseUrl);
  const maxId = Math.max(0, ...database.keys());
  console.error(
    `Traffic over; ${clients.length} clients catch up to id ${maxId}…`,
  );
  await Promise.all(clients.map((c) => catchUp(world, c, maxId)));
  await sampleRss("end");
  return { database, maxId };
}
