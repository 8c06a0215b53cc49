/**
 * POST /attachments (upload a picture) and GET /attachments/<id>[/thumb].
 * The uploader proves their name as a post does: `?name=` (or `?author=`),
 * plus `Authorization: Bearer <token>` when the name is claimed.
 */
import type { Context, Hono } from "hono";
import type { AppEnv, AppLimits } from "./app_env.ts";
import { errorResponse } from "./http_error.ts";
import { readBodyBytes } from "./read_body.ts";
import { clientAddress } from "./client_address.ts";
import { bearerToken, checkClaimToken, noteUse } from "./name_auth.ts";
import { refuseBannedName } from "../limits/ban_list.ts";
import type { AddressLimiter } from "../limits/rate_limiter.ts";
import type { NameStore } from "../store/name_store.ts";
import { type AttachmentStore, sha256Hex } from "../store/attachment_store.ts";
import { processImage } from "../attachments/image_process.ts";
import { createSemaphore } from "../attachments/semaphore.ts";
import { validateAuthor } from "../../protocol/message.ts";
import { nameKey } from "../../protocol/names.ts";
import {
  ATTACHMENT_ID,
  type UploadedAttachment,
} from "../../protocol/attachments.ts";
import type { PlazaMetrics } from "../observe/metrics.ts";

/** Room for a multipart body's boundaries and part headers beyond IMAGE_MAX_BYTES. */
export const MULTIPART_OVERHEAD_BYTES = 16 * 1024;
/** Pictures decoded at once on one instance: each may take IMAGE_MAX_PIXELS x 4 bytes while it is. */
export const DECODES_AT_ONCE = 2;
/** Pictures never change under an id: caches may keep them for a year. */
export const PICTURE_CACHE_CONTROL = "public, max-age=31536000, immutable";

const EXTENSIONS: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "image/gif": "gif",
};

/** The caps and limits of uploads (from config_attachments.ts). */
export interface UploadSettings {
  maxBytes: number;
  maxPixels: number;
  /** Bytes all pictures may take together; null: no cap. */
  storageCap: number | null;
}

/** What the attachment routes need. */
export interface AttachmentRouteDeps {
  store: AttachmentStore;
  names: NameStore;
  settings: UploadSettings;
  limits: Pick<AppLimits, "trustProxy" | "authFailures" | "bans">;
  /** Uploads per client address and per name (UPLOAD_RATE, UPLOAD_BURST). */
  uploadsPerAddress: AddressLimiter;
  uploadsPerName: AddressLimiter;
  stopping: () => boolean;
  metrics: Pick<PlazaMetrics, "rateLimited">;
}

/** A new attachment id: 16 random bytes, base64url. */
export function newAttachmentId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-")
    .replace(/\//g, "_").replace(/=+$/, "");
}

/** Adds POST /attachments and GET /attachments/:id(/thumb). */
export function registerAttachmentRoutes(
  app: Hono<AppEnv>,
  deps: AttachmentRouteDeps,
): void {
  const decodes = createSemaphore(DECODES_AT_ONCE);
  const guard = {
    failures: deps.limits.authFailures,
    trustProxy: deps.limits.trustProxy,
  };
  const tooFast = (retryAfterSeconds: number) => {
    deps.metrics.rateLimited.inc({ kind: "upload" });
    return errorResponse(
      429,
      "You are uploading pictures too fast; wait a moment and try again.",
      { "Retry-After": String(retryAfterSeconds) },
    );
  };

  app.post("/attachments", async (c) => {
    const address = clientAddress(c, deps.limits.trustProxy);
    const perAddress = await deps.uploadsPerAddress.take(address);
    if (!perAddress.ok) return tooFast(perAddress.retryAfterSeconds);
    const uploader = await checkUploader(c, deps, guard);
    if (!uploader.ok) return uploader.response;
    const perName = await deps.uploadsPerName.take(uploader.nameKey);
    if (!perName.ok) return tooFast(perName.retryAfterSeconds);

    const body = await readPicture(c, deps.settings.maxBytes, deps.stopping);
    if (!body.ok) return body.response;
    const processed = await decodes.run(() =>
      processImage(body.bytes, body.declared, deps.settings.maxPixels)
    );
    if (!processed.ok) {
      return errorResponse(processed.status, processed.error);
    }
    const image = processed.image;
    const id = newAttachmentId();
    const saved = await deps.store.save(
      { ...image, id, ...uploader, address },
      await sha256Hex(image.bytes),
      deps.settings.storageCap,
    );
    if (saved === "full") {
      return errorResponse(
        507,
        "The room's picture storage is full (IMAGE_STORAGE_CAP); ask its operator, or send text.",
      );
    }
    const answer: UploadedAttachment = {
      id,
      width: image.width,
      height: image.height,
      type: image.type,
      bytes: image.bytes.length,
    };
    return Response.json(answer, {
      status: 201,
      headers: { Location: `/attachments/${id}` },
    });
  });

  const serve = async (c: Context, thumb: boolean) => {
    const id = c.req.param("id") ?? "";
    if (!ATTACHMENT_ID.test(id)) {
      return errorResponse(404, "There is no such picture.");
    }
    const picture = await deps.store.read(id, thumb);
    if (picture.found === "missing") {
      return errorResponse(404, "There is no such picture.");
    }
    if (picture.found === "gone") {
      return errorResponse(410, "This picture was removed.");
    }
    const headers = {
      "Content-Type": picture.type,
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": "default-src 'none'",
      "Content-Disposition": `inline; filename="picture-${id}${
        thumb ? "-thumb" : ""
      }.${EXTENSIONS[picture.type]}"`,
      "Cache-Control": PICTURE_CACHE_CONTROL,
      ETag: picture.etag,
    };
    const match = c.req.header("if-none-match") ?? "";
    if (
      match.split(",").some((tag) =>
        tag.trim() === picture.etag || tag.trim() === `W/${picture.etag}`
      )
    ) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(picture.bytes as Uint8Array<ArrayBuffer>, {
      headers,
    });
  };
  app.get("/attachments/:id", (c) => serve(c, false));
  app.get("/attachments/:id/thumb", (c) => serve(c, true));
}

type Uploader = { ok: true; nameKey: string; nameId: number | null } | {
  ok: false;
  response: Response;
};

/** The uploader's name from the query, checked like a post's author (ban, claim token). */
async function checkUploader(
  c: Context,
  deps: AttachmentRouteDeps,
  guard: Parameters<typeof checkClaimToken>[3],
): Promise<Uploader> {
  const raw = c.req.query("name") ?? c.req.query("author");
  const author = validateAuthor(raw);
  if (!author.ok) {
    return {
      ok: false,
      response: errorResponse(
        400,
        raw === undefined
          ? "Say who uploads: add ?name=<your name> to the URL (and the name's token as Authorization: Bearer <token> if it is claimed)."
          : author.error.replace('Field "author"', 'The "name"'),
      ),
    };
  }
  const banned = refuseBannedName(deps.limits.bans, author.value);
  if (banned) return { ok: false, response: banned };
  const key = nameKey(author.value);
  let claim = await deps.names.byKey(key);
  if (claim === null && bearerToken(c) !== null) {
    claim = await deps.names.byKey(key, { fresh: true });
  }
  if (claim === null) return { ok: true, nameKey: key, nameId: null };
  const token = bearerToken(c);
  if (token === null) {
    return {
      ok: false,
      response: errorResponse(
        403,
        `"${claim.name}" is a claimed name: send its token as Authorization: Bearer <token>, or upload under another name.`,
      ),
    };
  }
  const refused = checkClaimToken(c, token, claim, guard);
  if (refused) return { ok: false, response: refused };
  await noteUse(deps.names, claim);
  return { ok: true, nameKey: key, nameId: claim.id };
}

type Picture =
  | { ok: true; bytes: Uint8Array<ArrayBuffer>; declared: string | null }
  | { ok: false; response: Response };

/** The uploaded bytes and their declared type: the raw body, or the `file` part of a multipart form. */
async function readPicture(
  c: Context,
  maxBytes: number,
  stopping: () => boolean,
): Promise<Picture> {
  const contentType = c.req.header("content-type") ?? "";
  const mediaType = contentType.split(";")[0].trim().toLowerCase();
  const multipart = mediaType === "multipart/form-data";
  if (mediaType === "") {
    return {
      ok: false,
      response: errorResponse(
        415,
        "Send the picture as the body with its Content-Type (image/jpeg, image/png, image/webp or image/gif), or as the file field of a multipart form.",
      ),
    };
  }
  const read = await readBodyBytes(
    c.req.raw,
    multipart ? maxBytes + MULTIPART_OVERHEAD_BYTES : maxBytes,
  );
  if (!read.ok) {
    const responses = {
      too_large: () =>
        errorResponse(
          413,
          `The picture is larger than ${maxBytes} bytes (IMAGE_MAX_BYTES).`,
        ),
      timeout: () =>
        errorResponse(
          408,
          "The picture did not arrive in time; send it again.",
          { Connection: "close" },
        ),
      unreadable: () =>
        stopping()
          ? errorResponse(
            503,
            "The server is restarting; send the picture again.",
            { "Retry-After": "1" },
          )
          : errorResponse(400, "The body ended before its declared length."),
    };
    return { ok: false, response: responses[read.reason]() };
  }
  if (!multipart) {
    return {
      ok: true,
      bytes: read.bytes,
      declared: mediaType === "application/octet-stream" ? null : mediaType,
    };
  }
  let file: FormDataEntryValue | null;
  try {
    const form = await new Request("http://upload.invalid/", {
      method: "POST",
      headers: { "Content-Type": contentType },
      body: read.bytes,
    }).formData();
    file = form.get("file");
  } catch {
    return {
      ok: false,
      response: errorResponse(400, "The multipart body could not be read."),
    };
  }
  if (file === null || typeof file === "string") {
    return {
      ok: false,
      response: errorResponse(
        400,
        'The multipart form needs the picture in a file field named "file".',
      ),
    };
  }
  if (file.size > maxBytes) {
    return {
      ok: false,
      response: errorResponse(
        413,
        `The picture is larger than ${maxBytes} bytes (IMAGE_MAX_BYTES).`,
      ),
    };
  }
  const declared = file.type.split(";")[0].trim().toLowerCase();
  return {
    ok: true,
    bytes: new Uint8Array(await file.arrayBuffer()),
    declared: declared === "" || declared === "application/octet-stream"
      ? null
      : declared,
  };
}
