/**
 * export: GET /export over a room of plan.exportMessages messages (seeded in
 * one INSERT … SELECT generate_series), read to the end as fast as the
 * reader can, per format. The export runs in this process (the app over its
 * own connection pool) so its heap can be sampled as well as its RSS, every
 * SAMPLE_MS while it streams: flat figures from the first quarter of its
 * time to the last show that memory does not grow with the export.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { createTestDatabase } from "../../test/harness/pg_cluster.ts";
import { testAppDependencies } from "../../test/harness/app_deps.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createApp } from "../../server/http/app.ts";
import { createHub } from "../../server/live/hub.ts";
import { round1 } from "../format.ts";
import { note, printHeader } from "../report.ts";
import { type Context, measure } from "./scenario.ts";

/** How often memory is sampled during an export. */
const SAMPLE_MS = 100;
/** An export slower than this is cut off (the run stays bounded). */
const EXPORT_TIMEOUT_MS = 180_000;
const ADMIN_TOKEN = "bench-admin-token-0123456789";
const FORMATS = ["ndjson", "markdown"] as const;

const MiB = 2 ** 20;

/** Runs the export scenario. */
export async function exportScenario(ctx: Context) {
  const count = ctx.plan.exportMessages;
  printHeader(
    "export",
    `GET /export of ${
      count.toLocaleString("en")
    } messages, in process, memory sampled every ${SAMPLE_MS} ms`,
  );
  const created = await createTestDatabase(ctx.cluster.url);
  const db = createPostgresDatabase(created.url);
  const hub = createHub({ heartbeatMs: 60_000 });
  try {
    await migrate(db, await readMigrations());
    const seedStart = performance.now();
    // The app's triggers (numbering under a lock, one NOTIFY per row) are
    // for live posts; off here, the rows are what any room holds.
    await db.transaction(async (tx) => {
      await tx.query("alter table messages disable trigger user");
      await tx.query(
        `insert into messages (id, author, text, created_at)
         select g, 'author ' || (g % 97),
           'message ' || g || ': a line of chat of a usual length, with a few words',
           timestamptz '2026-01-01' + g * interval '1 second'
         from generate_series(1, $1::int) g`,
        [count],
      );
      await tx.query("alter table messages enable trigger user");
      await tx.query("select setval('messages_id_seq', $1)", [count]);
    });
    await db.query("analyze messages");
    note(
      `seeded ${count.toLocaleString("en")} messages in ${
        round1((performance.now() - seedStart) / 1000)
      } s`,
    );
    const app = createApp(
      testAppDependencies(db, hub, { adminToken: ADMIN_TOKEN }),
    );
    for (const format of FORMATS) {
      await measure(ctx, "export", format, "plaza", async () => {
        // Settle what seeding and the previous format left behind.
        (globalThis as { gc?: () => void }).gc?.();
        await sleep(200);
        const before = Deno.memoryUsage();
        const samples: { at: number; rss: number; heap: number }[] = [];
        let lines = 0;
        let bytes = 0;
        const t0 = performance.now();
        const res = await app.request(`/export?format=${format}`, {
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        if (res.status !== 200 || res.body === null) {
          throw new Error(`GET /export answered ${res.status}`);
        }
        const timer = setInterval(() => {
          const m = Deno.memoryUsage();
          samples.push({
            at: performance.now() - t0,
            rss: m.rss,
            heap: m.heapUsed,
          });
        }, SAMPLE_MS);
        const reader = res.body.getReader();
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            bytes += value.byteLength;
            for (const b of value) if (b === 10) lines++;
            if (performance.now() - t0 > EXPORT_TIMEOUT_MS) {
              throw new Error(`not done after ${EXPORT_TIMEOUT_MS} ms`);
            }
          }
        } finally {
          clearInterval(timer);
          await reader.cancel().catch(() => {});
        }
        const ms = performance.now() - t0;
        const seconds = ms / 1000;
        // By time: the export streams at a steady pace, so a quarter of the
        // time is about a quarter of the messages.
        const quarter = (q: number) => {
          const within = samples.filter((s) =>
            s.at >= ms * q / 4 && s.at < ms * (q + 1) / 4
          );
          const peak = (k: "rss" | "heap") =>
            within.length === 0
              ? "—"
              : String(round1(Math.max(...within.map((s) => s[k])) / MiB));
          return `${peak("rss")}/${peak("heap")}`;
        };
        const peak = (k: "rss" | "heap") =>
          round1(Math.max(0, ...samples.map((s) => s[k])) / MiB);
        return {
          figures: {
            messages: format === "ndjson" ? lines - 1 : count,
            seconds: round1(seconds),
            perSecond: Math.round(count / seconds),
            mibPerSecond: round1(bytes / MiB / seconds),
            rssBeforeMiB: round1(before.rss / MiB),
            rssPeakMiB: peak("rss"),
            heapBeforeMiB: round1(before.heapUsed / MiB),
            heapPeakMiB: peak("heap"),
            quarters: [0, 1, 2, 3].map(quarter).join(" "),
          },
          raw: { samples: samples.length, bytes },
        };
      });
    }
    note(
      "quarters: peak RSS/heap MiB in each quarter of the export's time; flat = memory does not grow with the export",
    );
  } finally {
    hub.close();
    await db.close();
    await created.drop();
  }
}
