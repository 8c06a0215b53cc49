/** The oracle for the chat after a run: no stream stays counted, and a plain post reaches a stream. */
import { postJson } from "../harness/fixtures.ts";
import { openSse } from "../harness/sse_client.ts";
import { withDeadline } from "../harness/wait.ts";

/** After the run: no stream stays counted, and a plain chat works end to end. */
export async function checkChat(base: string): Promise<string[]> {
  const problems: string[] = [];
  const stream = await openSse(`${base}/stream?history=0`);
  try {
    if (stream.response.status !== 200) {
      return [`GET /stream answered ${stream.response.status}`];
    }
    // Presence counts every open stream on the instance: once the fuzz
    // streams are all cancelled, only this one is left.
    const online = () =>
      stream.events.filter((e) => e.event === "presence").map((e) =>
        (JSON.parse(e.data) as { online: number }).online
      );
    try {
      await withDeadline(
        stream.until(() => online().at(-1) === 1),
        20_000,
        "presence back to 1",
      );
    } catch {
      problems.push(
        `streams still counted after the run: presence says ${
          JSON.stringify(online())
        }`,
      );
    }
    const sent = await postJson(base, "after fuzz", "still works");
    await withDeadline(
      stream.untilMessages(1),
      10_000,
      "the posted message on the stream",
    );
    const got = stream.events.find((e) => e.event === "message");
    if (
      got === undefined ||
      JSON.stringify(JSON.parse(got.data)) !== JSON.stringify(sent)
    ) {
      problems.push(
        `the stream carried ${got?.data}, posted ${JSON.stringify(sent)}`,
      );
    }
  } finally {
    await stream.close();
  }
  return problems;
}
