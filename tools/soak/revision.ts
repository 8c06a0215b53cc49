import { ROOT } from "./paths.ts";

/** The commit the servers ran, marked when server/ or db/ had uncommitted changes (others edit them while soaks run). */
export async function serverRevision(): Promise<string | null> {
  const git = (args: string[]) =>
    new Deno.Command("git", {
      args: ["-C", ROOT, ...args],
      stdout: "piped",
      stderr: "null",
    }).output();
  try {
    const head = await git(["rev-parse", "--short", "HEAD"]);
    if (!head.success) return null;
    const dirty = await git(["diff", "--quiet", "HEAD", "--", "server", "db"]);
    return new TextDecoder().decode(head.stdout).trim() +
      (dirty.success ? "" : " + uncommitted changes in server/ or db/");
  } catch {
    return null;
  }
}
