/**
 * Turns committed messages into link previews, off the post path: each
 * instance's listener offers it every new message (the post has been
 * answered by then), and the one instance whose INSERT of the message's
 * message_previews row succeeds fetches it (the primary key is the claim;
 * the others find the row there and leave it). The result goes into
 * message_previews, whose trigger logs a `preview` change for every stream
 * (db/migrations/013). Fetches are cached by URL in link_previews.
 */
import type { Database } from "../../db/database.ts";
import type { Message } from "../../protocol/message.ts";
import { firstLink } from "../../protocol/links.ts";
import type { PagePreview } from "./parse_meta.ts";

/** Fetches running at once on one instance. */
export const PREVIEW_CONCURRENCY = 4;
/** Links waiting on one instance; more are dropped (no preview) rather than queued without bound. */
export const MAX_PREVIEW_QUEUE = 200;
/** How long a fetched preview is reused for the same URL. */
export const PREVIEW_CACHE_MS = 24 * 60 * 60 * 1000;
/** How long a failed fetch is remembered before the URL is tried again. */
export const FAILED_PREVIEW_CACHE_MS = 10 * 60 * 1000;
/** Longest link previewed (a message holds at most 2000 characters anyway). */
export const MAX_PREVIEW_URL_LENGTH = 2048;

/** What the worker needs. */
export interface PreviewWorkerOptions {
  db: Database;
  /** Fetches a page's preview; throws when there is none to be had (or `signal` aborted it). */
  fetch: (url: string, signal: AbortSignal) => Promise<PagePreview>;
  /** Told of database failures (fetch failures are the normal case and only counted). */
  onError: (message: string, error: unknown) => void;
  /** Told each link handled: previewed, failed, or left to the instance that claimed it (for tests). */
  onDone?: (messageId: number, outcome: "ok" | "failed" | "claimed") => void;
}

/** Queues messages' links for previewing. */
export interface PreviewWorker {
  /** Queues `message`'s first link, if it has one; returns at once. */
  offer(message: Message): void;
  /** Stops taking work and waits for the fetches running. */
  close(): Promise<void>;
}

type CacheRow = {
  status: "ok" | "failed";
  title: string | null;
  description: string | null;
  image_url: string | null;
  site_name: string | null;
};

/** Starts a worker over `options.db`. */
export function createPreviewWorker(
  options: PreviewWorkerOptions,
): PreviewWorker {
  const { db } = options;
  const queue: { id: number; url: string }[] = [];
  const running = new Set<Promise<void>>();
  let closed = false;
  // Aborted by close(): fetches stop at once instead of holding a shutdown.
  const stopping = new AbortController();

  // The cached result for `url`, or a fresh fetch (then cached).
  async function previewOf(url: string): Promise<PagePreview | null> {
    const [cached] = await db.query<CacheRow>(
      `select status, title, description, image_url, site_name
       from link_previews where url = $1 and fetched_at > now() -
         (case when status = 'ok' then $2::bigint else $3::bigint end)
           * interval '1 millisecond'`,
      [url, PREVIEW_CACHE_MS, FAILED_PREVIEW_CACHE_MS],
    );
    if (cached) {
      return cached.status === "ok"
        ? {
          title: cached.title,
          description: cached.description,
          image: cached.image_url,
          site: cached.site_name,
        }
        : null;
    }
    let preview: PagePreview | null;
    try {
      preview = await options.fetch(url, stopping.signal);
      // A page with neither title nor description has nothing to show.
      if (preview.title === null && preview.description === null) {
        preview = null;
      }
    } catch {
      preview = null;
    }
    // Cut off by a shutdown: neither the page's fault nor an answer.
    stopping.signal.throwIfAborted();
    await db.query(
      `insert into link_previews
         (url, status, title, description, image_url, site_name)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (url) do update set status = excluded.status,
         title = excluded.title, description = excluded.description,
         image_url = excluded.image_url, site_name = excluded.site_name,
         fetched_at = now()`,
      [
        url,
        preview ? "ok" : "failed",
        preview?.title ?? null,
        preview?.description ?? null,
        preview?.image ?? null,
        preview?.site ?? null,
      ],
    );
    return preview;
  }

  async function work(id: number, url: string): Promise<void> {
    // The claim: only the instance that inserts the row fetches. A message
    // deleted meanwhile inserts nothing.
    const claimed = await db.query(
      `insert into message_previews (message_id, url)
       select $1, $2 where exists (select 1 from messages where id = $1)
       on conflict (message_id) do nothing
       returning message_id`,
      [id, url],
    );
    if (claimed.length === 0) return options.onDone?.(id, "claimed");
    const preview = await previewOf(url);
    await db.query(
      `update message_previews set status = $2, title = $3, description = $4,
         image_url = $5, site_name = $6
       where message_id = $1 and status = 'pending'`,
      [
        id,
        preview ? "ok" : "failed",
        preview?.title ?? null,
        preview?.description ?? null,
        preview?.image ?? null,
        preview?.site ?? null,
      ],
    );
    options.onDone?.(id, preview ? "ok" : "failed");
  }

  function pump(): void {
    while (!closed && running.size < PREVIEW_CONCURRENCY && queue.length > 0) {
      const { id, url } = queue.shift()!;
      const task = work(id, url).catch((error) => {
        // 23503: the message was deleted between the check and the insert.
        if (
          !stopping.signal.aborted &&
          (error as { code?: unknown }).code !== "23503"
        ) {
          options.onError("Could not make a link preview", error);
        }
      }).finally(() => {
        running.delete(task);
        pump();
      });
      running.add(task);
    }
  }

  return {
    offer(message) {
      if (closed) return;
      const url = firstLink(message.text);
      if (url === null || url.length > MAX_PREVIEW_URL_LENGTH) return;
      if (queue.length >= MAX_PREVIEW_QUEUE) return;
      queue.push({ id: message.id, url });
      pump();
    },
    async close() {
      closed = true;
      queue.length = 0;
      stopping.abort();
      await Promise.all(running);
    },
  };
}
