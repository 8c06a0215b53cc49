import assert from "node:assert/strict";
import { dayLabel, exactTime, relativeTime, sameDay } from "./relative_time.ts";

const relative = new Intl.RelativeTimeFormat(undefined, {
  numeric: "auto",
  style: "short",
});
const MINUTE = 60_000;
// Local noon, so that a few hours either way stay on the same day.
const NOON = new Date(2026, 10, 27, 12).getTime();

Deno.test("relativeTime: now, then minutes, then the clock time", () => {
  assert.equal(relativeTime(NOON, NOON), relative.format(0, "second"));
  assert.equal(relativeTime(NOON - 59_000, NOON), relative.format(0, "second"));
  // A sender's clock ahead of ours still reads as now.
  assert.equal(relativeTime(NOON + 5_000, NOON), relative.format(0, "second"));
  assert.equal(
    relativeTime(NOON - 2 * MINUTE, NOON),
    relative.format(-2, "minute"),
  );
  assert.equal(
    relativeTime(NOON - 59 * MINUTE, NOON),
    relative.format(-59, "minute"),
  );
  assert.equal(
    relativeTime(NOON - 60 * MINUTE, NOON),
    new Intl.DateTimeFormat(undefined, { timeStyle: "short" }).format(
      NOON - 60 * MINUTE,
    ),
  );
});

Deno.test("exactTime: the full date and time", () => {
  assert.equal(
    exactTime(NOON),
    new Intl.DateTimeFormat(undefined, {
      dateStyle: "full",
      timeStyle: "medium",
    }).format(NOON),
  );
});

Deno.test("dayLabel and sameDay follow local calendar days", () => {
  const morning = new Date(2026, 10, 27, 0, 0, 1).getTime();
  const lastNight = new Date(2026, 10, 26, 23, 59, 59).getTime();
  assert.ok(sameDay(morning, NOON));
  assert.ok(!sameDay(lastNight, morning));
  assert.equal(dayLabel(morning, NOON), relative.format(0, "day"));
  assert.equal(dayLabel(lastNight, NOON), relative.format(-1, "day"));
  const older = new Date(2026, 10, 24, 9).getTime();
  assert.equal(
    dayLabel(older, NOON),
    new Intl.DateTimeFormat(undefined, { dateStyle: "full" }).format(older),
  );
  // Across a daylight-saving change a day is 23 or 25 hours; still "yesterday".
  const march = new Date(2026, 2, 30, 12).getTime();
  assert.equal(
    dayLabel(new Date(2026, 2, 29, 1).getTime(), march),
    relative.format(-1, "day"),
  );
});
