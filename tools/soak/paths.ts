import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root folder: the instances run from it, git reads it. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Where the JSON report is written (git-ignored). */
export const RESULTS_DIR = join(ROOT, "bench", "results");
