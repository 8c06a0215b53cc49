/**
 * GET /export?from=&to=&format=ndjson|markdown|html, for moderators (Bearer
 * ADMIN_TOKEN): the messages of a date range, streamed page by page from a
 * cursor (store/room_export.ts). The next page is read only when the client
 * has taken the previous one, so memory stays flat whatever the size.
 * docs/api.md, "Export", is the contract.
 */
import type { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import type { Queryable } from "../../db/database.ts";
import { errorResponse } from "./http_error.ts";
import { type BearerGuard, moderatorCheck } from "./admin_auth.ts";
import {
  exportHeader,
  type ExportPage,
  exportPage,
  type ExportRange,
  type ExportRecord,
} from "../store/room_export.ts";
import { HTML, MARKDOWN, type TranscriptFormat } from "./transcript.ts";

/** The export formats, by their `format=` name. */
export const EXPORT_FORMATS = ["ndjson", "markdown", "html"] as const;
/** One of EXPORT_FORMATS. */
export type ExportFormat = typeof EXPORT_FORMATS[number];

const TRANSCRIPTS: Record<Exclude<ExportFormat, "ndjson">, TranscriptFormat> = {
  markdown: MARKDOWN,
  html: HTML,
};

// A date (midnight UTC) or a date and time, UTC unless an offset is given.
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** Parses `from`/`to`: an ISO 8601 string Postgres reads the same, or an error. */
export function parseInstant(
  raw: string,
  what: string,
): { ok: true; value: string } | { ok: false; error: string } {
  const bad = {
    ok: false as const,
    error:
      `${what} must be a date (2026-12-06) or a date and time (2026-12-06T17:30:00Z), got "${
        raw.slice(0, 40)
      }".`,
  };
  const m = INSTANT.exec(raw);
  if (m === null) return bad;
  const [, y, mo, d, h = "00", mi = "00", s = "00"] = m;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (
    Number(y) < 1 || day.getUTCMonth() !== Number(mo) - 1 ||
    day.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 ||
    Number(s) > 59
  ) {
    return bad;
  }
  const iso = m[4] === undefined
    ? `${raw}T00:00:00Z`
    : m[7] === undefined
    ? `${raw}Z`
    : raw;
  return { ok: true, value: new Date(iso).toISOString() };
}

/** Checks the query of GET /export: the range and format, or the 400 to send. */
export function exportQuery(
  query: { from?: string; to?: string; format?: string },
): { ok: true; range: ExportRange; format: ExportFormat } | {
  ok: false;
  error: string;
} {
  const format = query.format ?? "ndjson";
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    return {
      ok: false,
      error: `format must be one of ${EXPORT_FORMATS.join(", ")}.`,
    };
  }
  const range: ExportRange = { from: null, to: null };
  for (const key of ["from", "to"] as const) {
    const raw = query[key];
    if (raw === undefined || raw === "") continue;
    const parsed = parseInstant(raw, key);
    if (!parsed.ok) return parsed;
    range[key] = parsed.value;
  }
  if (range.from !== null && range.to !== null && range.from >= range.to) {
    return { ok: false, error: "from must be before to." };
  }
  return { ok: true, range, format: format as ExportFormat };
}

/** What the export route needs. */
export interface ExportRouteDeps {
  db: Queryable;
  adminToken: string | null;
  guard: BearerGuard;
}

/**
 * The body of an export: `first` is already read (so a database that is
 * down is a 503, not a cut-off file); each later page is read when the
 * consumer pulls.
 */
export function exportStream(
  db: Queryable,
  range: ExportRange,
  format: ExportFormat,
  start: string,
  first: ExportPage,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const transcript = format === "ndjson" ? null : TRANSCRIPTS[format];
  const render = (page: ExportPage) =>
    transcript === null
      ? page.lines.map((l) => l + "\n").join("")
      : page.lines.map((l) => transcript.message(JSON.parse(l) as ExportRecord))
        .join("");
  let page: ExportPage | null = first;
  let started = false;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(start));
      }
      if (page === null) {
        controller.close();
        return;
      }
      const text = render(page);
      const next = page.next;
      page = null;
      if (text !== "") controller.enqueue(encoder.encode(text));
      if (next === null) {
        const foot = transcript?.foot() ?? "";
        if (foot !== "") controller.enqueue(encoder.encode(foot));
        controller.close();
        return;
      }
      const read = await exportPage(db, range, next);
      if (!cancelled) page = read;
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 1 });
}

/** Adds GET /export to `app`. */
export function registerExportRoutes(
  app: Hono<AppEnv>,
  deps: ExportRouteDeps,
): void {
  const admin = moderatorCheck(deps.adminToken, deps.guard);
  app.get("/export", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    const query = exportQuery({
      from: c.req.query("from"),
      to: c.req.query("to"),
      format: c.req.query("format"),
    });
    if (!query.ok) return errorResponse(400, query.error);
    const { range, format } = query;
    const header = await exportHeader(deps.db, range);
    const first = await exportPage(deps.db, range, null);
    const transcript = format === "ndjson" ? null : TRANSCRIPTS[format];
    const start = transcript === null
      ? JSON.stringify(header) + "\n"
      : transcript.head(range);
    const stamp = header.exportedAt.slice(0, 19).replace(/:/g, "-");
    return new Response(exportStream(deps.db, range, format, start, first), {
      headers: {
        "Content-Type": transcript?.contentType ?? "application/x-ndjson",
        "Content-Disposition": `attachment; filename="plaza-${stamp}.${
          transcript?.extension ?? "ndjson"
        }"`,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      },
    });
  });
}
