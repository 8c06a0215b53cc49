/**
 * `deno task export [--from <date>] [--to <date>] [--format ndjson|markdown|html] [--out <file>]`:
 * saves a running Plaza's messages (GET /export) to a file, or to standard
 * output. NDJSON is the backup `deno task import` restores; Markdown and
 * HTML are readable transcripts. Reads PLAZA_URL (default
 * http://localhost:8000) and ADMIN_TOKEN from the environment.
 */

const USAGE =
  `usage: ADMIN_TOKEN=… [PLAZA_URL=http://localhost:8000] deno task export [--from <date>] [--to <date>] [--format ndjson|markdown|html] [--out <file>]
  dates: 2026-12-06 (midnight UTC) or 2026-12-06T17:30:00Z; from inclusive, to exclusive`;

/** The export request and where to save it, parsed from `args`, or an error. */
export function exportArgs(
  args: string[],
): { ok: true; query: URLSearchParams; out: string | null } | {
  ok: false;
  error: string;
} {
  const query = new URLSearchParams();
  let out: string | null = null;
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) {
      return { ok: false, error: `${flag} needs a value` };
    }
    if (flag === "--out") out = value;
    else if (["--from", "--to", "--format"].includes(flag)) {
      query.set(flag.slice(2), value);
    } else return { ok: false, error: `unknown option ${flag}` };
  }
  return { ok: true, query, out };
}

/** Runs the export; returns the process exit code. */
export async function runExport(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<number> {
  const parsed = exportArgs(args);
  const token = env.ADMIN_TOKEN;
  if (!parsed.ok || !token) {
    console.error(parsed.ok ? "ADMIN_TOKEN is not set." : parsed.error);
    console.error(USAGE);
    return 2;
  }
  const base = env.PLAZA_URL ?? "http://localhost:8000";
  let res: Response;
  try {
    res = await fetch(`${base}/export?${parsed.query}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
  } catch (error) {
    console.error(
      `Cannot reach ${base}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
    return 1;
  }
  if (!res.ok || res.body === null) {
    const text = await res.text();
    let message = text;
    try {
      message = JSON.parse(text).error ?? text;
    } catch {
      // Not JSON: shown as it came.
    }
    console.error(`Export refused (${res.status}): ${message}`);
    return 1;
  }
  if (parsed.out === null) {
    await res.body.pipeTo(Deno.stdout.writable, { preventClose: true });
  } else {
    const file = await Deno.open(parsed.out, {
      write: true,
      create: true,
      truncate: true,
    });
    await res.body.pipeTo(file.writable);
    console.error(`Saved to ${parsed.out}.`);
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await runExport(Deno.args, Deno.env.toObject()));
}
