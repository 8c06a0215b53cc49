/** Message times for people ("now", "2 min. ago", "yesterday") in the reader's locale. */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

const relative = new Intl.RelativeTimeFormat(undefined, {
  numeric: "auto",
  style: "short",
});
const clock = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });
const day = new Intl.DateTimeFormat(undefined, { dateStyle: "full" });

/** "now", "N min. ago" within the hour, then the clock time (day separators give the date). */
export function relativeTime(at: number, now: number): string {
  const minutes = Math.floor((now - at) / MINUTE_MS);
  // A clock a little behind the server's (minutes < 0) still reads "now".
  return minutes < 1
    ? relative.format(0, "second")
    : minutes < 60
    ? relative.format(-minutes, "minute")
    : clock.format(at);
}

/** The exact date and time, for the title of a <time>. */
export const exactTime: (at: number) => string = new Intl.DateTimeFormat(
  undefined,
  { dateStyle: "full", timeStyle: "medium" },
).format; // a getter that returns a bound function

function midnight(at: number): number {
  return new Date(at).setHours(0, 0, 0, 0);
}

/** True when both instants fall on the same local calendar day. */
export function sameDay(a: number, b: number): boolean {
  return midnight(a) === midnight(b);
}

/** "today", "yesterday" or the full local date, for a day separator (CSS capitalizes it). */
export function dayLabel(at: number, now: number): string {
  // Rounded: a day with a daylight-saving change is 23 or 25 hours long.
  const days = Math.round((midnight(now) - midnight(at)) / DAY_MS);
  return days === 0 || days === 1
    ? relative.format(-days, "day")
    : day.format(at);
}
