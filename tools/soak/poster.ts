import { newBody } from "./post_body.ts";
import { between, exponential, pick } from "./random.ts";
import { post } from "./requests.ts";
import type { SimClient } from "./sim_client.ts";
import { sleep } from "./sleep.ts";
import { liveInstance, type World } from "./world.ts";

// Human-ish behaviour. Talkers post every ~10 s on average while connected,
// lurkers every ~60 s; a quarter of posts are followed by a quick second one.
const TALKER_MEAN_GAP_MS = 10_000;
const LURKER_MEAN_GAP_MS = 60_000;
const FOLLOW_UP_SHARE = 0.25;
/** A repeat of an earlier clientId (a retry whose answer was lost), expecting 200. */
const REPEAT_SHARE = 0.04;
/** The same new message sent to both instances at once, expecting one 201 and one 200. */
const RACE_SHARE = 0.02;
/** Sent messages a client keeps as candidates for a repeat. */
const SENT_KEPT = 20;

/** One thing a person does with the send button. */
async function postSomething(world: World, client: SimClient): Promise<void> {
  const rng = client.postRng;
  const r = rng();
  const instance = liveInstance(world, rng);
  if (instance === null) return;
  if (r < REPEAT_SHARE && client.sent.length > 0) {
    // A browser retrying a send whose answer it never saw.
    const earlier = pick(rng, client.sent);
    const out = await post(world, instance, earlier.body, [200]);
    if (out === null) return;
    world.oracle.repeated(earlier, out.message);
    return;
  }
  const body = newBody(rng, client.author);
  if (r < REPEAT_SHARE + RACE_SHARE && world.instances.length > 1) {
    // The retry arrives while the first try is still in flight, elsewhere.
    const [a, b] = await Promise.all(
      world.instances.map((i) => post(world, i, body, [200, 201])),
    );
    if (a === null || b === null) return;
    world.oracle.raced(a, b);
    client.sent.push({ body, id: a.message.id });
  } else {
    const out = await post(world, instance, body, [201]);
    if (out !== null) client.sent.push({ body, id: out.message.id });
  }
  if (client.sent.length > SENT_KEPT) client.sent.shift();
}

function nextPostGap(client: SimClient, justPosted: boolean): number {
  const rng = client.postRng;
  if (justPosted && rng() < FOLLOW_UP_SHARE) return between(rng, 500, 3000);
  const mean = client.talker ? TALKER_MEAN_GAP_MS : LURKER_MEAN_GAP_MS;
  return Math.max(300, exponential(rng, mean));
}

/** Posts now and then while `session` (a signal aborted when it ends) lasts. */
export async function postWhileConnected(
  world: World,
  client: SimClient,
  session: AbortSignal,
): Promise<void> {
  let gap = nextPostGap(client, false);
  for (;;) {
    await sleep(gap, session);
    if (session.aborted) return;
    await postSomething(world, client);
    gap = nextPostGap(client, true);
  }
}
