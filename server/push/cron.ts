/**
 * The push queue's Deno.cron job. Deno Deploy stops an instance when no
 * request came for a while (denoland/docs deploy/reference/runtime.md,
 * "Lifecycle"), and then no timer runs: a notification held back by
 * PUSH_INTERVAL_MS or a retry would wait for the next visitor. A cron run
 * starts an instance if none is up, and its start catches the queue up.
 */
import { catchUpPush } from "./dispatcher.ts";

/** The job's name in Deploy's dashboard and logs (256 characters at most). */
export const PUSH_CRON_NAME = "plaza push queue";
/** Every minute, the finest a cron schedule goes: PUSH_INTERVAL_MS's own scale. */
export const PUSH_CRON_SCHEDULE = "* * * * *";

/** The slice of Deno.cron this uses. */
export type CronRegistrar = (
  name: string,
  schedule: string,
  handler: () => Promise<void>,
) => unknown;

/** The cron run itself: catches the push queue up; fails (shown as Error in the dashboard) when no Plaza started in this process. */
export async function runPushCron(waitMs?: number): Promise<void> {
  const dispatchers = await catchUpPush(waitMs);
  if (dispatchers === 0) {
    throw new Error(
      "the push queue was not caught up: Plaza did not start in this process (see its start_failed line)",
    );
  }
}

/**
 * Registers the job when `deno.cron` exists: always on Deno Deploy; locally
 * only with --unstable-cron, where an instance's own timers do the same
 * work. Returns whether it registered. Deploy finds crons only when they
 * are registered at module top level before Deno.serve() starts
 * (denoland/docs deploy/reference/cron.md, "Organizing cron declarations"):
 * call this there, not from main().
 */
export function registerPushCron(deno: object): boolean {
  // Deno's stable types have no `cron`: it is an unstable API locally.
  const cron = (deno as { cron?: unknown }).cron;
  if (typeof cron !== "function") return false;
  (cron as CronRegistrar).call(
    deno,
    PUSH_CRON_NAME,
    PUSH_CRON_SCHEDULE,
    () => runPushCron(),
  );
  return true;
}
