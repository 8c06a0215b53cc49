/**
 * `deno run --allow-all bench/image_codecs.ts`: what one ~1 MB JPEG costs
 * through the picture pipelines compared in docs/attachments.md (decode,
 * strip, thumbnail), each run a few times in this process. Not part of
 * `deno task bench`: it measures codecs, not the server.
 */
import { Image } from "imagescript";
import decodeJpeg from "@jsquash/jpeg/decode.js";
import encodeJpeg from "@jsquash/jpeg/encode.js";
import { jpegBytes, withMetadata } from "../test/harness/images.ts";
import { processImage } from "../server/attachments/image_process.ts";

/** Runs of each pipeline; the first one also loads and compiles its WASM. */
const RUNS = 5;

const photo = withMetadata(
  await jpegBytes(1600, 1200, { noise: 40, quality: 88 }),
);

async function time(
  name: string,
  fn: () => Promise<unknown>,
): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    ms.push(Math.round(performance.now() - t));
  }
  const sorted = [...ms].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(58)} median ${sorted[Math.floor(RUNS / 2)]} ms  (runs: ${
      ms.join(", ")
    })`,
  );
}

console.log(
  `a ${
    (photo.length / 1e6).toFixed(2)
  } MB 1600 x 1200 JPEG with EXIF/XMP/IPTC; ${RUNS} runs each`,
);
await time(
  "Plaza (strip segments, @jsquash decode, box thumb, MozJPEG)",
  () => processImage(photo, "image/jpeg", 50_000_000),
);
await time(
  "imagescript: decode, re-encode q85, thumb (native encoder)",
  async () => {
    const image = await Image.decode(photo);
    await image.encodeJPEG(85);
    await image.resize(400, Image.RESIZE_AUTO).encodeJPEG(78);
  },
);
await time("@jsquash: decode, re-encode q85 with MozJPEG (WASM)", async () => {
  const pixels = await decodeJpeg(photo.slice().buffer);
  await encodeJpeg(pixels, { quality: 85 });
});
