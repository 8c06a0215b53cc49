/**
 * The settings of pictures (IMAGE_*, UPLOAD_*), parsed for loadConfig in
 * ../config.ts with its own helpers (passed in, so this file reads no
 * environment itself and config.ts stays under its size limit).
 */
import type { Env, RateLimit } from "../config.ts";

/** Default of IMAGE_MAX_BYTES: the largest upload (the client resizes pictures before sending). */
export const DEFAULT_IMAGE_MAX_BYTES = 10 * 1024 * 1024;

/** Default of IMAGE_MAX_PIXELS: a 50 MP photo decodes to 200 MB of pixels, the most one decode may take. */
export const DEFAULT_IMAGE_MAX_PIXELS = 50_000_000;
/** Default of IMAGE_STORAGE_CAP: 1 GiB of pictures and thumbnails. */
export const DEFAULT_IMAGE_STORAGE_CAP = 1024 ** 3;
/** Default of IMAGE_UNUSED_MINUTES: an upload no message took is removed after this long. */
export const DEFAULT_IMAGE_UNUSED_MINUTES = 60;

/** Picture settings. */
export interface AttachmentConfig {
  /** Largest upload in bytes (`IMAGE_MAX_BYTES`, default 10 MiB); larger ones get 413 while they stream. */
  maxBytes: number;
  /** Most pixels (width x height; a GIF's frames summed) of a picture (`IMAGE_MAX_PIXELS`, default 50,000,000). */
  maxPixels: number;
  /** Bytes all stored pictures and thumbnails may take (`IMAGE_STORAGE_CAP`, default 1 GiB); null = `off`. */
  storageCap: number | null;
  /** Uploads per client address and, separately, per name (`UPLOAD_RATE`, default 10/1m; `UPLOAD_BURST`, default 5); null = `off`. */
  uploadLimit: RateLimit | null;
  /** An upload no message took within this many minutes is removed (`IMAGE_UNUSED_MINUTES`, default 60). */
  unusedMinutes: number;
}

/** config.ts's parsers, lent to this file. */
export interface ConfigParsers {
  integer(
    env: Env,
    name: string,
    fallback: number,
    min: number,
    max: number,
  ): number;
  rate(
    env: Env,
    name: string,
    burstName: string,
    fallback: string,
    fallbackBurst: number,
  ): RateLimit | null;
}

/** Parses the picture settings; throws ConfigError (through `parse`) naming a wrong variable. */
export function attachmentConfig(
  env: Env,
  parse: ConfigParsers,
): AttachmentConfig {
  const cap = env.IMAGE_STORAGE_CAP?.trim().toLowerCase() === "off"
    ? null
    : parse.integer(
      env,
      "IMAGE_STORAGE_CAP",
      DEFAULT_IMAGE_STORAGE_CAP,
      1,
      Number.MAX_SAFE_INTEGER,
    );
  return {
    maxBytes: parse.integer(
      env,
      "IMAGE_MAX_BYTES",
      DEFAULT_IMAGE_MAX_BYTES,
      1024,
      100 * 1024 * 1024,
    ),
    maxPixels: parse.integer(
      env,
      "IMAGE_MAX_PIXELS",
      DEFAULT_IMAGE_MAX_PIXELS,
      1,
      250_000_000,
    ),
    storageCap: cap,
    uploadLimit: parse.rate(env, "UPLOAD_RATE", "UPLOAD_BURST", "10/1m", 5),
    unusedMinutes: parse.integer(
      env,
      "IMAGE_UNUSED_MINUTES",
      DEFAULT_IMAGE_UNUSED_MINUTES,
      1,
      7 * 24 * 60,
    ),
  };
}
