import type { SseEvent } from "../../test/harness/sse_parser.ts";
import type { Instance } from "./instance.ts";
import type { SimClient } from "./sim_client.ts";
import { openStream, type StreamSession } from "./stream_session.ts";
import type { World } from "./world.ts";

/** Opens a stream for `client` where it left off, its messages checked by the oracle; null on failure, counted. */
export async function connect(
  world: World,
  client: SimClient,
  instance: Instance,
  onOther: (event: SseEvent) => void,
  stop: AbortSignal,
): Promise<StreamSession | null> {
  const resumeFrom = client.lastId ?? client.since;
  const url = resumeFrom === null
    ? `${instance.url}/stream?history=0`
    : `${instance.url}/stream`;
  const where = `${instance.name} session ${client.sessions + 1}`;
  const opened = await openStream(url, resumeFrom, (event) => {
    if (event.event === "message") world.oracle.delivered(client, event, where);
    else onOther(event);
  }, stop);
  if (!opened.ok) {
    if (opened.status === null) {
      if (!stop.aborted) {
        world.tally.error(`GET ${instance.name}/stream`, opened.detail);
      }
    } else {
      world.tally.status(
        `GET ${instance.name}/stream`,
        opened.status,
        [200],
        opened.detail,
      );
    }
    return null;
  }
  client.sessions++;
  world.tally.sessions++;
  return opened.session;
}
