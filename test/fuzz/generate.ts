/** Case N of a seed: a generator picked by weight, then run, all from the case's own PRNG. */
import type { Case, GenContext } from "./cases.ts";
import { genAdmin } from "./gen_admin.ts";
import { genModeration, genReport } from "./gen_moderation.ts";
import { genBots } from "./gen_bots.ts";
import {
  genFormBadBytes,
  genFormOdd,
  genInvalidUtf8,
  genJsonGarbage,
  genTyping,
} from "./gen_bodies.ts";
import { genRawJunk, genTruncated } from "./gen_framing.ts";
import {
  genBigHeaders,
  genContentType,
  genOrigin,
  genOversized,
} from "./gen_headers.ts";
import { genHostileText } from "./gen_hostile.ts";
import {
  genMessagesQuery,
  genOddMethod,
  genOddPath,
  genStreamQuery,
} from "./gen_targets.ts";
import { genValidGet, genValidPost } from "./gen_valid.ts";
import { genAttachment } from "./gen_attachments.ts";
import { caseSeed, Rng } from "./rng.ts";

// The order and weights are part of what a seed means: any change to them
// (a new generator too), or to the draws inside a generator, makes recorded
// FUZZ_SEED/FUZZ_CASE lines send other requests.
const GENERATORS: readonly (readonly [
  (g: Rng, ctx: GenContext) => Case,
  number,
])[] = [
  [genValidPost, 18],
  [genValidGet, 8],
  [genJsonGarbage, 12],
  [genInvalidUtf8, 6],
  [genFormOdd, 8],
  [genContentType, 6],
  [genOversized, 4],
  [genOddMethod, 6],
  [genOddPath, 7],
  [genMessagesQuery, 7],
  [genStreamQuery, 7],
  [genBigHeaders, 3],
  [genTruncated, 5],
  [genRawJunk, 5],
  [genTyping, 5],
  [genOrigin, 2],
  [genAdmin, 3],
  [genHostileText, 8],
  [genFormBadBytes, 4],
  [genModeration, 4],
  [genReport, 4],
  [genBots, 3],
  [genAttachment, 6],
];

/** Case `index` of `seed`: the same request on every run and in a replay. */
export function generate(seed: number, index: number, ctx: GenContext): Case {
  const g = new Rng(caseSeed(seed, index));
  return g.weighted(GENERATORS)(g, ctx);
}
