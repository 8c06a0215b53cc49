/**
 * Sending a message with pictures: each picture is uploaded (POST
 * /attachments, by XMLHttpRequest, whose upload reports progress where fetch
 * has none), then the message is posted with their ids, as the outbox posts
 * any message (client/outbox.ts: the same clientId, so a retry of a message
 * the server already has is answered with the original, never stored twice).
 */
import { deliver, type Delivery, failure, type OutboxItem } from "../outbox.ts";
import type { FetchLike } from "../fetch_like.ts";
import { deletePicture, getPicture, markUploaded } from "./store.ts";

/** How far the current send's uploads are: picture `index` (from 0) of `count`, `loaded` of its `total` bytes. */
export interface Progress {
  clientId: string;
  index: number;
  count: number;
  loaded: number;
  total: number;
}

/** One picture's upload: its id, or why it failed (as a Delivery failure). */
export type Uploaded = { id: string } | { error: string; refused: boolean };

/** POSTs one picture's bytes to /attachments as `author` with the name's token; never throws. */
export function uploadPicture(
  blob: Blob,
  author: string,
  token: string,
  timeoutMs: number,
  onProgress: (loaded: number, total: number) => void,
): Promise<Uploaded> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/attachments?author=${encodeURIComponent(author)}`);
    xhr.setRequestHeader("Content-Type", blob.type);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.timeout = timeoutMs;
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.total || blob.size);
    xhr.onload = () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // A proxy's HTML error page: the status says enough.
      }
      resolve(
        xhr.status === 201 && typeof body.id === "string"
          ? { id: body.id }
          : failure({ status: xhr.status, body }),
      );
    };
    xhr.onerror = () =>
      resolve({ error: "Could not reach the server.", refused: false });
    xhr.ontimeout = () =>
      resolve({
        error: "The server took too long to answer.",
        refused: false,
      });
    // The bar shows from the start, before the first progress event.
    onProgress(0, blob.size);
    xhr.send(blob);
  });
}

/** A fetch for deliver() that posts its fields as JSON with the attachments added (a form body cannot carry a list). */
export function withAttachments(
  doFetch: FetchLike,
  attachments: { id: string; alt: string }[],
): FetchLike {
  return (url, init) =>
    doFetch(url, {
      ...init,
      headers: { ...init.headers, "Content-Type": "application/json" },
      body: JSON.stringify({
        ...Object.fromEntries(init.body as URLSearchParams),
        attachments,
      }),
    });
}

/**
 * Posts an outbox item that has pictures: uploads those not uploaded yet
 * (reporting progress), then posts the message; the pictures' bytes leave
 * this device's store once the message is in. Has deliver()'s signature:
 * the chat state calls it in deliver's place (ChatState.setUploader).
 */
export function sendWithPictures(
  onProgress: (p: Progress | null) => void,
): typeof deliver {
  return async (doFetch, item: OutboxItem, timeoutMs, token = "") => {
    const { clientId, author, images = [] } = item;
    const attachments: { id: string; alt: string }[] = [];
    try {
      for (const [index, { key, alt }] of images.entries()) {
        const stored = await getPicture(key);
        if (!stored) {
          return {
            error: "A picture of this message is no longer on this device.",
            refused: true,
          };
        }
        let id = stored.id;
        if (!id) {
          const up = await uploadPicture(
            stored.blob,
            author,
            token,
            timeoutMs,
            (loaded, total) =>
              onProgress({
                clientId,
                index,
                count: images.length,
                loaded,
                total,
              }),
          );
          if (!("id" in up)) return up;
          id = up.id;
          await markUploaded(key, id);
        }
        attachments.push({ id, alt });
      }
    } catch {
      return {
        error: "This browser could not read the picture it kept.",
        refused: false,
      };
    } finally {
      onProgress(null);
    }
    const result: Delivery = await deliver(
      withAttachments(doFetch, attachments),
      item,
      timeoutMs,
      token,
    );
    if ("message" in result) {
      for (const { key } of images) await deletePicture(key).catch(() => {});
    }
    return result;
  };
}
