/**
 * uploads: POST /attachments of a ~1 MB JPEG kept in flight at c=4 and
 * c=16 on a Plaza instance of its own, for uploads per second, latency and
 * the server's memory (RSS, sampled every 250 ms, peak and at the end).
 * Each upload changes one quantisation value, so every one is a new picture
 * (no content-addressed shortcut) that still decodes.
 */

import { jpegBytes } from "../../test/harness/images.ts";
import { sampleProcess, withCpu } from "../proc_stats.ts";
import { printHeader } from "../report.ts";
import { startServer } from "../servers.ts";
import { type Context, measure } from "./scenario.ts";
import { round1 } from "../format.ts";

/** The bench picture: about 1 MB of JPEG (grainy, so it does not compress away). */
const PICTURE_SIDE = [1600, 1200] as const;
const PICTURE_NOISE = 40;
const PICTURE_QUALITY = 88;
/** How often the server's RSS is read while uploads run. */
const RSS_SAMPLE_MS = 250;

/** A photo-like JPEG of about 1 MB. */
async function benchJpeg(): Promise<Uint8Array<ArrayBuffer>> {
  return await jpegBytes(...PICTURE_SIDE, {
    noise: PICTURE_NOISE,
    quality: PICTURE_QUALITY,
  });
}

/** Where the first quantisation table's values start (after FF DB, length and Pq/Tq). */
function quantOffset(jpeg: Uint8Array): number {
  for (let i = 2; i + 5 < jpeg.length; i++) {
    if (jpeg[i] === 0xff && jpeg[i + 1] === 0xdb) return i + 5;
  }
  throw new Error("no DQT in the bench JPEG");
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Runs the uploads scenario on a Plaza instance of its own. */
export async function uploads(ctx: Context) {
  const { plan } = ctx;
  const picture = await benchJpeg();
  const at = quantOffset(picture);
  printHeader(
    "uploads",
    `POST /attachments of a ${round1(picture.length / 1e6)} MB ${
      PICTURE_SIDE[0]
    } x ${PICTURE_SIDE[1]} JPEG for ${
      plan.uploadsMs / 1000
    } s at each concurrency (strip, decode, thumbnail, store)`,
  );
  const server = await startServer(
    "plaza",
    { ...ctx.plazaEnv, UPLOAD_RATE: "off", IMAGE_STORAGE_CAP: "off" },
    ctx.profileDir,
  );
  let variant = 0;
  const next = () => {
    const copy = picture.slice();
    variant++;
    // Values 1..255 at 64 places: thousands of distinct, valid pictures.
    const place = at + (variant % 64);
    copy[place] = 1 + ((copy[place] + Math.floor(variant / 64)) % 255);
    return copy;
  };
  try {
    for (const c of plan.uploadConcurrency) {
      await measure(ctx, "uploads", `c=${c}`, "plaza", async () => {
        const url = `http://127.0.0.1:${server.port}/attachments?name=bench`;
        const latencies: number[] = [];
        const statuses: Record<string, number> = {};
        let peakRss = 0;
        const sampler = setInterval(() => {
          sampleProcess(server.pid).then((s) => {
            peakRss = Math.max(peakRss, s.rss);
          }).catch(() => {});
        }, RSS_SAMPLE_MS);
        const started = performance.now();
        const deadline = started + plan.uploadsMs;
        let created = 0;
        const { serverCpu, machineCpu } = await withCpu(server, async () => {
          await Promise.all(
            Array.from({ length: c }, async () => {
              while (performance.now() < deadline) {
                const t = performance.now();
                const res = await fetch(url, {
                  method: "POST",
                  headers: { "Content-Type": "image/jpeg" },
                  body: next(),
                });
                await res.body?.cancel();
                latencies.push(performance.now() - t);
                statuses[res.status] = (statuses[res.status] ?? 0) + 1;
                if (res.status === 201) created++;
              }
            }),
          );
        });
        const seconds = (performance.now() - started) / 1000;
        clearInterval(sampler);
        const end = await sampleProcess(server.pid);
        latencies.sort((a, b) => a - b);
        const non201 = latencies.length - created;
        return {
          figures: {
            perSecond: round1(created / seconds),
            p50: Math.round(percentile(latencies, 0.5)),
            p99: Math.round(percentile(latencies, 0.99)),
            peakRssMiB: round1(Math.max(peakRss, end.rss) / 2 ** 20),
            endRssMiB: round1(end.rss / 2 ** 20),
            non201,
          },
          serverCpuPercent: serverCpu,
          machineCpuPercent: machineCpu,
          error: non201 === 0
            ? undefined
            : `statuses ${JSON.stringify(statuses)}`,
        };
      });
    }
  } finally {
    await server.stop();
  }
}
