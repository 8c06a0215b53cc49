// The worker pool answers as processImage does, keeps the event loop free
// while a photo is decoded (inline, a timer waits for the whole decode), and
// close() ends its workers (the sanitizers would see one left running).
import assert from "node:assert/strict";
import { createImagePool } from "./image_pool.ts";
import { processImage } from "./image_process.ts";
import {
  jpegBytes,
  pngBomb,
  pngBytes,
  SVG,
} from "../../test/harness/images.ts";

/** The longest a 5 ms interval waited between ticks while `work` ran. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    await work();
    return Math.max(longest, performance.now() - last);
  } finally {
    clearInterval(timer);
  }
}

Deno.test("the picture pool answers as processImage does, off the event loop, and close() ends its workers", async () => {
  const pool = createImagePool(2);
  try {
    const png = await pngBytes(30, 20);
    const [a, b, c] = await Promise.all([
      pool.process(png.slice(), "image/png", 1e6),
      pool.process(SVG.slice(), "image/svg+xml", 1e6),
      pool.process(pngBomb(), "image/png", 50_000_000),
    ]);
    assert.equal(a.ok && a.image.width, 30);
    assert.deepEqual(b.ok ? null : b.status, 415);
    assert.deepEqual(c.ok ? null : c.status, 413);
    assert.deepEqual(a, await processImage(png, "image/png", 1e6));

    const photo = await jpegBytes(2400, 1800, { noise: 40 });
    // Warm both paths (WASM compiled) before measuring.
    await pool.process(photo.slice(), "image/jpeg", 5e7);
    await processImage(photo, "image/jpeg", 5e7);
    const inline = await longestStall(() =>
      processImage(photo, "image/jpeg", 5e7)
    );
    const pooled = await longestStall(() =>
      pool.process(photo.slice(), "image/jpeg", 5e7)
    );
    assert.ok(
      pooled < inline / 2,
      `a timer waited ${Math.round(pooled)} ms with the pool, ${
        Math.round(inline)
      } ms inline`,
    );
  } finally {
    pool.close();
  }
});
