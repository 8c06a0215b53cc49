/** Runs `deno task moderate` (tools/moderate.ts) as a moderator would, against one instance. */

/** What the command printed (stdout then stderr) and its exit code. */
export interface ModerateRun {
  code: number;
  text: string;
}

/** Runs tools/moderate.ts with `args`, PLAZA_URL `url` and ADMIN_TOKEN `token`. */
export async function runModerate(
  url: string,
  token: string,
  ...args: string[]
): Promise<ModerateRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "tools/moderate.ts", ...args],
    env: { PLAZA_URL: url, ADMIN_TOKEN: token },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}
