// The picture settings as loadConfig reads them: defaults, `off`, and a
// wrong value named in the error.
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../config.ts";
import { DEFAULT_IMAGE_MAX_BYTES as CLIENTS_DEFAULT } from "../../protocol/limits.ts";
import { DEFAULT_IMAGE_MAX_BYTES } from "./attachments.ts";

Deno.test("picture settings: defaults, off, and wrong values refused by name", () => {
  // config.ts imports nothing outside server/config/: the clients' copy of
  // the default is kept equal here.
  assert.equal(DEFAULT_IMAGE_MAX_BYTES, CLIENTS_DEFAULT);
  const defaults = loadConfig({}).attachments;
  assert.deepEqual(defaults, {
    maxBytes: 10 * 1024 * 1024,
    maxPixels: 50_000_000,
    storageCap: 1024 ** 3,
    uploadLimit: { perSecond: 10 / 60, burst: 5 },
    unusedMinutes: 60,
  });
  const set = loadConfig({
    IMAGE_MAX_BYTES: "2000000",
    IMAGE_MAX_PIXELS: "1000000",
    IMAGE_STORAGE_CAP: "off",
    UPLOAD_RATE: "off",
    IMAGE_UNUSED_MINUTES: "5",
  }).attachments;
  assert.deepEqual(set, {
    maxBytes: 2_000_000,
    maxPixels: 1_000_000,
    storageCap: null,
    uploadLimit: null,
    unusedMinutes: 5,
  });
  for (
    const [name, value] of [
      ["IMAGE_MAX_BYTES", "10"],
      ["IMAGE_MAX_PIXELS", "lots"],
      ["IMAGE_STORAGE_CAP", "-1"],
      ["UPLOAD_RATE", "fast"],
      ["IMAGE_UNUSED_MINUTES", "0"],
    ]
  ) {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (e: unknown) => e instanceof ConfigError && e.message.includes(name),
    );
  }
});
