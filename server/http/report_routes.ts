/**
 * Readers' reports of messages: POST /reports for anyone, and for
 * moderators (ADMIN_TOKEN) GET /moderation/reports and DELETE
 * /moderation/reports/<id> (dismiss). Acting on a report uses the routes
 * that exist: DELETE /messages/<id> (which takes the message's reports with
 * it) and POST /moderation/bans.
 */
import type { Hono } from "hono";
import type { AppEnv, AppLimits } from "./app_env.ts";
import { type BearerGuard, moderatorCheck } from "./admin_auth.ts";
import { clientAddress } from "./client_address.ts";
import { errorResponse } from "./http_error.ts";
import { readFields } from "./request_fields.ts";
import { parseId } from "./request_params.ts";
import { validateName } from "../../protocol/names.ts";
import { refuseBannedName } from "../limits/ban_list.ts";
import type { PlazaMetrics } from "../observe/metrics.ts";
import type { NewReport, ReportStore } from "../store/report_store.ts";

/** Longest reason a reader may give, in characters (code points). */
export const MAX_REPORT_REASON = 500;

/** What the report routes need. */
export interface ReportRouteDeps {
  reports: ReportStore;
  limits: Pick<AppLimits, "report" | "trustProxy" | "bans">;
  /** ADMIN_TOKEN; null = the moderators' routes answer 404 saying moderation is off. */
  adminToken: string | null;
  guard: BearerGuard;
  stopping: () => boolean;
  metrics: Pick<PlazaMetrics, "rateLimited">;
}

const FIELDS = ["messageId", "reason", "name"];

/** A report's fields as checked, without the address (the server knows it). */
export type ReportInput = Omit<NewReport, "reporterAddress">;

type Parsed = { ok: true; value: ReportInput } | { ok: false; error: string };

/** Checks a POST /reports body: `{"messageId", "reason"?, "name"?}` (JSON, or form strings). */
export function parseReportInput(value: unknown): Parsed {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: 'Body must be an object with "messageId".' };
  }
  const body = value as Record<string, unknown>;
  const unknownField = Object.keys(body).find((k) => !FIELDS.includes(k));
  if (unknownField !== undefined) {
    return {
      ok: false,
      error: `Unknown field "${unknownField.slice(0, 40)}"; expected ${
        FIELDS.join(", ")
      }.`,
    };
  }
  const has = (k: string) => body[k] !== undefined && body[k] !== null;
  const raw = body.messageId;
  // A form sends every field as text.
  const id = typeof raw === "string" && /^\d{1,16}$/.test(raw)
    ? Number(raw)
    : raw;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) {
    return {
      ok: false,
      error: '"messageId" must be the id of a message, a whole number from 1.',
    };
  }
  let reason: string | null = null;
  if (has("reason")) {
    if (
      typeof body.reason !== "string" ||
      [...body.reason].length > MAX_REPORT_REASON ||
      // Moderators read reasons in a terminal (deno task moderate), where
      // control characters, C1's CSI included, would be commands.
      // deno-lint-ignore no-control-regex
      /[\x00-\x1f\x7f-\x9f]/.test(body.reason)
    ) {
      return {
        ok: false,
        error:
          `"reason" must be text of at most ${MAX_REPORT_REASON} characters on one line, without control characters.`,
      };
    }
    const trimmed = body.reason.trim();
    reason = trimmed === "" ? null : trimmed;
  }
  let reporterName: string | null = null;
  if (has("name")) {
    const checked = validateName(body.name);
    if (!checked.ok) return { ok: false, error: checked.error };
    reporterName = checked.value;
  }
  return { ok: true, value: { messageId: id, reason, reporterName } };
}

/** Adds POST /reports and the moderators' report routes to `app`. */
export function registerReportRoutes(
  app: Hono<AppEnv>,
  deps: ReportRouteDeps,
): void {
  const { limits } = deps;
  app.post("/reports", async (c) => {
    // A banned address never gets here (addressBanGuard in
    // moderation_routes.ts); invalid input and banned names spend no budget.
    const fields = await readFields(c, FIELDS, deps.stopping);
    if (!fields.ok) return fields.response;
    const input = parseReportInput(fields.value);
    if (!input.ok) return errorResponse(400, input.error);
    if (input.value.reporterName !== null) {
      const banned = refuseBannedName(limits.bans, input.value.reporterName);
      if (banned) return banned;
    }
    const address = clientAddress(c, limits.trustProxy);
    const decision = await limits.report.take(address);
    if (!decision.ok) {
      deps.metrics.rateLimited.inc({ kind: "report" });
      return errorResponse(
        429,
        `You have sent many reports lately; try again in ${decision.retryAfterSeconds} s.`,
        { "Retry-After": String(decision.retryAfterSeconds) },
      );
    }
    const added = await deps.reports.add({
      ...input.value,
      reporterAddress: address,
    });
    if (added === null) {
      return errorResponse(
        404,
        `There is no message ${input.value.messageId} (it may have been deleted).`,
      );
    }
    const { id, messageId, reason, reporterName, createdAt } = added.report;
    // A repeat from the same address answers with the report already open.
    return Response.json(
      { id, messageId, reason, reporterName, createdAt },
      { status: added.created ? 201 : 200 },
    );
  });

  const admin = moderatorCheck(deps.adminToken, deps.guard);

  app.get("/moderation/reports", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    return Response.json({ reports: await deps.reports.open() });
  });

  app.delete("/moderation/reports/:id", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    const id = parseId(c.req.param("id"), "The report id");
    if (!id.ok) return errorResponse(400, id.error);
    if (!(await deps.reports.dismiss(id.value))) {
      return errorResponse(404, `There is no open report ${id.value}.`);
    }
    return new Response(null, { status: 204 });
  });
}
