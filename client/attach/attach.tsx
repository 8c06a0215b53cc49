/**
 * Pictures, loaded after the chat has started (client/pwa loads this chunk):
 * a picker button in the composer (which offers the camera on phones),
 * pasting and dropping images onto the room, a strip of what will be sent
 * (each with its alt text and a remove button), shrinking before upload,
 * the upload's progress, and the lightbox for pictures in the log. Picked
 * pictures wait in IndexedDB (./store.ts) so the outbox can send them later.
 */
// Built against client/extras/lent_preact.ts, the host's h.
import { h } from "preact";
import { MAX_ALT_LENGTH, MAX_ATTACHMENTS } from "../../protocol/limits.ts";
import type { Host } from "../pwa/host.ts";
import { lendH } from "../extras/lent_preact.ts";
import { adoptStyles } from "../lazy_styles.ts";
import css from "./attach.css" with { type: "text" };
import { startLightbox } from "./lightbox.tsx";
import { shrink } from "./resize.ts";
import { deletePicture, dropOrphans, putPicture } from "./store.ts";
import { type Progress, sendWithPictures } from "./upload.ts";

// Read as a data: URL for the strip: the page's CSP allows data: images, not blob:.
function dataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => resolve("");
    reader.readAsDataURL(blob);
  });
}

/** The image files among those dropped, pasted or picked. */
export function imageFiles(files: FileList | null | undefined): File[] {
  return [...files ?? []].filter((f) => f.type.startsWith("image/"));
}

/** Starts the pictures chunk; client/pwa calls it once. */
export function start(host: Host): void {
  lendH(host.h);
  adoptStyles(css);
  const { chat, render, signal, effect } = host;
  const progress = signal<Progress | null>(null);
  const note = signal("");
  // The strip's previews, by picture key.
  const previews = signal<Record<string, string>>({});
  chat.setUploader(sendWithPictures((p) => (progress.value = p)));

  // Pictures no send will ever use (a discarded send, a closed tab's picks).
  dropOrphans(
    new Set(chat.outbox.value.flatMap((i) => i.images ?? []).map((p) => p.key)),
  ).catch(() => {});

  // Previews of pictures no longer in the strip (sent or removed) go.
  effect(() => {
    const keys = chat.images.value.map((p) => p.key);
    const kept = Object.entries(previews.peek()).filter(([k]) =>
      keys.includes(k)
    );
    if (kept.length < Object.keys(previews.peek()).length) {
      previews.value = Object.fromEntries(kept);
    }
  });

  async function add(files: File[]): Promise<void> {
    note.value = "";
    for (const file of files) {
      if (chat.images.value.length >= MAX_ATTACHMENTS) {
        note.value = `A message carries at most ${MAX_ATTACHMENTS} pictures.`;
        return;
      }
      try {
        const blob = await shrink(file);
        const key = await putPicture(blob);
        previews.value = { ...previews.value, [key]: await dataUrl(blob) };
        chat.setImages([...chat.images.value, { key, alt: "" }]);
      } catch {
        note.value = "This browser could not keep the picture to send it.";
      }
    }
  }

  function remove(key: string): void {
    chat.setImages(chat.images.value.filter((p) => p.key !== key));
    deletePicture(key).catch(() => {});
  }

  function setAlt(key: string, alt: string): void {
    chat.setImages(
      chat.images.value.map((p) => p.key === key ? { ...p, alt } : p),
    );
  }

  let picker: HTMLInputElement | null = null;
  const Attach = () => {
    const list = chat.images.value;
    const up = progress.value;
    // Laid out as the composer's own children (CSS: display: contents).
    return (
      <div class="att-slot">
        <button
          type="button"
          class="button-quiet att-pick"
          aria-label="Add pictures"
          title="Add pictures"
          data-testid="attach-pick"
          disabled={list.length >= MAX_ATTACHMENTS}
          onClick={() => picker?.click()}
        >
          <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
            <path d="M4 5h16v14H4zm0 10 5-5 4 4 2-2 5 5M15.5 9.5h.01" />
          </svg>
        </button>
        <input
          ref={(el) => {
            picker = el;
          }}
          type="file"
          accept="image/*"
          multiple
          hidden
          data-testid="attach-input"
          onChange={(e) => {
            const input = e.currentTarget;
            void add(imageFiles(input.files));
            // The same file picked again is a new pick.
            input.value = "";
          }}
        />
        {list.length > 0 && (
          <ul class="att-strip" aria-label="Pictures to send">
            {list.map(({ key, alt }, i) => (
              <li key={key} class="att-item" data-testid="attach-preview">
                <img src={previews.value[key]} alt="" />
                <input
                  class="att-alt"
                  aria-label={`Description of picture ${
                    i + 1
                  } for people who cannot see it`}
                  placeholder="Describe it (alt text)"
                  maxLength={MAX_ALT_LENGTH}
                  value={alt}
                  data-testid="attach-alt"
                  onInput={(e) =>
                    setAlt(key, e.currentTarget.value)}
                />
                <button
                  type="button"
                  class="att-remove"
                  aria-label={`Remove picture ${i + 1}`}
                  data-testid="attach-remove"
                  onClick={() =>
                    remove(key)}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        {up && (
          <label class="att-progress" data-testid="attach-progress">
            Uploading picture {up.index + 1} of {up.count}
            <progress value={up.loaded} max={up.total || 1} />
          </label>
        )}
        {note.value && (
          <p class="att-note" role="status" data-testid="attach-note">
            {note.value}
          </p>
        )}
      </div>
    );
  };

  // The composer comes and goes (the name form takes its place): the strip
  // joins each new one, as its first element, outside Preact's own children.
  let slot: HTMLElement | null = null;
  const mount = () => {
    const form = document.querySelector<HTMLFormElement>("form.composer");
    if (!form || slot?.parentNode === form) return;
    if (slot) render(null, slot);
    slot = document.createElement("div");
    slot.className = "att-slot";
    form.prepend(slot);
    render(<Attach />, slot);
  };
  mount();
  new MutationObserver(mount).observe(document.querySelector(".dock")!, {
    childList: true,
  });

  // Pasting an image anywhere in the page, while the composer is there.
  addEventListener("paste", (e) => {
    const files = imageFiles(e.clipboardData?.files);
    if (files.length && slot?.isConnected) {
      e.preventDefault();
      void add(files);
    }
  });
  // Dropping images onto the room.
  const dragging = (e: DragEvent) =>
    !!slot?.isConnected && !!e.dataTransfer?.types.includes("Files");
  addEventListener("dragover", (e) => {
    if (dragging(e)) {
      e.preventDefault();
      e.dataTransfer!.dropEffect = "copy";
      document.body.classList.add("att-dropping");
    }
  });
  addEventListener("dragleave", (e) => {
    if (!e.relatedTarget) document.body.classList.remove("att-dropping");
  });
  addEventListener("drop", (e) => {
    document.body.classList.remove("att-dropping");
    if (dragging(e)) {
      e.preventDefault();
      void add(imageFiles(e.dataTransfer!.files));
    }
  });

  startLightbox(host);
}
