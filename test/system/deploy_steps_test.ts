// What each Deno Deploy step loads, read from `deno info --json`: the module
// graph Deno itself builds, so no guess about how imports are resolved.
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

interface InfoDependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}
interface Info {
  roots: string[];
  modules: InfoModule[];
  redirects: Record<string, string>;
}

/** Specifiers `entry` reaches: by static imports only, or by dynamic ones too. */
async function reachable(
  entry: string,
  withDynamic: boolean,
): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, ROOT).pathname],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as Info;
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [...info.roots];
  while (todo.length > 0) {
    const specifier = todo.pop()!;
    const resolved = info.redirects[specifier] ?? specifier;
    if (seen.has(resolved)) continue;
    seen.add(resolved);
    for (const dep of bySpecifier.get(resolved)?.dependencies ?? []) {
      if (dep.code && (withDynamic || !dep.isDynamic)) {
        todo.push(dep.code.specifier);
      }
    }
  }
  return seen;
}

const isPglite = (s: string) =>
  s.includes("@electric-sql/pglite") || s.endsWith("/db/pglite_database.ts");

Deno.test("the server and deno task migrate load PGlite only when DATABASE_URL is unset (a dynamic import), so a Postgres cold start skips it", async () => {
  for (const entry of ["server/main.ts", "server/migrate_command.ts"]) {
    const all = await reachable(entry, true);
    // The embedded database is still reachable, so the check below is not
    // vacuous (and deno compile / Deploy still bundle it).
    assert.ok([...all].some(isPglite), `${entry} no longer reaches PGlite`);
    const eager = await reachable(entry, false);
    assert.ok(
      [...eager].some((s) => s.endsWith("/db/postgres_database.ts")),
      entry,
    );
    assert.deepEqual([...eager].filter(isPglite), [], entry);
  }
});

Deno.test("the Deploy build step (deno task build) loads no database code, so it has no database to refuse", async () => {
  const all = await reachable("tools/build_client.ts", true);
  const touching = [...all].filter((s) =>
    s.includes("/db/") || s.endsWith("/server/config.ts") ||
    s.startsWith("npm:postgres") || isPglite(s)
  );
  assert.deepEqual(touching, []);
  assert.ok(all.size > 1, "deno info found no imports at all");
});
