/**
 * `deno task moderate <message id>…`: deletes messages from a running Plaza.
 * Reads PLAZA_URL (default http://localhost:8000) and ADMIN_TOKEN (the one
 * the server was started with) from the environment.
 */

async function main(args: string[]): Promise<number> {
  const base = Deno.env.get("PLAZA_URL") ?? "http://localhost:8000";
  const token = Deno.env.get("ADMIN_TOKEN");
  if (!token || args.length === 0) {
    console.error(
      "usage: ADMIN_TOKEN=… [PLAZA_URL=http://localhost:8000] deno task moderate <message id>…",
    );
    return 2;
  }
  let failed = 0;
  for (const id of args) {
    const res = await fetch(`${base}/messages/${encodeURIComponent(id)}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${token}` },
    });
    const body = res.status === 204 ? "" : await res.text();
    if (res.status === 204) {
      console.log(`deleted message ${id}`);
    } else {
      failed++;
      let reason = body;
      try {
        reason = JSON.parse(body).error ?? body;
      } catch {
        // Not JSON: show it as it came.
      }
      console.error(`message ${id}: ${res.status} ${reason}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
