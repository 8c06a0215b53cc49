/**
 * The pictures in the log: a click (or Enter) on one opens it full size in a
 * modal dialog, with arrows to the other pictures of the same message;
 * Escape closes it and focus goes back to the picture that opened it. A
 * picture whose bytes are gone (moderated, erased) becomes a quiet
 * "image removed". The log renders each picture as a link to its full size
 * (client/components/message_list.tsx), so all of this works from the DOM.
 */
// Built against client/extras/lent_preact.ts, the host's h.
import { h } from "preact";
import type { PageHost } from "../pwa/host.ts";

/** The links the log renders around each picture. */
export const PICTURE_LINK = '.msg a[href^="/attachments/"]';

/** One picture of the message being shown. */
interface Shown {
  href: string;
  alt: string;
}

/** Marks a picture whose thumbnail failed to load (410 or 404 once removed) as removed. */
function markGone(img: HTMLImageElement): void {
  const link = img.closest(PICTURE_LINK);
  if (!link) return;
  link.removeAttribute("href");
  link.className = "att-gone";
  link.setAttribute("role", "img");
  link.setAttribute("aria-label", "image removed");
}

/** Opens pictures of the log in a lightbox and marks removed ones; call once. */
export function startLightbox({ render, signal }: PageHost): void {
  const pictures = signal<Shown[]>([]);
  const at = signal(0);
  let opener: HTMLElement | null = null;
  const dialog = document.createElement("dialog");
  dialog.className = "lightbox";
  dialog.dataset.testid = "lightbox";
  dialog.setAttribute("aria-label", "Picture");
  document.body.append(dialog);

  const go = (step: number) => {
    const n = pictures.value.length;
    at.value = (at.value + step + n) % n;
  };

  const Lightbox = () => {
    const list = pictures.value;
    const shown = list[at.value];
    if (!shown) return null;
    const many = list.length > 1;
    return (
      <figure class="lightbox-figure">
        <img
          src={shown.href}
          alt={shown.alt}
          data-testid="lightbox-image"
        />
        {(shown.alt || many) && (
          <figcaption aria-hidden="true">
            {many && `${at.value + 1} / ${list.length} `}
            {shown.alt}
          </figcaption>
        )}
        <div class="lightbox-tools">
          {many && (
            <button
              type="button"
              class="button-quiet"
              aria-label="Previous picture"
              data-testid="lightbox-prev"
              onClick={() => go(-1)}
            >
              ←
            </button>
          )}
          {many && (
            <button
              type="button"
              class="button-quiet"
              aria-label="Next picture"
              data-testid="lightbox-next"
              onClick={() => go(1)}
            >
              →
            </button>
          )}
          <button
            type="button"
            class="button-quiet"
            data-testid="lightbox-close"
            onClick={() => dialog.close()}
          >
            Close
          </button>
        </div>
      </figure>
    );
  };
  render(<Lightbox />, dialog);

  dialog.addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      e.preventDefault();
      go(e.key === "ArrowLeft" ? -1 : 1);
    }
  });
  // A click on the backdrop (the dialog itself, not its figure) closes it.
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    pictures.value = [];
    opener?.focus();
    opener = null;
  });

  addEventListener("click", (e) => {
    const link = (e.target as Element).closest?.(PICTURE_LINK);
    // A new tab or window (a modifier held) opens the picture itself.
    if (
      !(link instanceof HTMLAnchorElement) || e.ctrlKey || e.metaKey ||
      e.shiftKey || e.button
    ) return;
    e.preventDefault();
    const links = [
      ...link.closest(".msg")!.querySelectorAll<HTMLAnchorElement>(
        PICTURE_LINK,
      ),
    ];
    pictures.value = links.map((a) => ({
      href: a.getAttribute("href")!,
      alt: a.querySelector("img")?.alt ?? "",
    }));
    at.value = links.indexOf(link);
    opener = link;
    dialog.showModal();
  });

  // An error does not bubble: caught on its way down instead.
  addEventListener("error", (e) => {
    if (e.target instanceof HTMLImageElement) markGone(e.target);
  }, true);
  // Those that failed before this chunk came.
  for (
    const img of document.querySelectorAll<HTMLImageElement>(
      `${PICTURE_LINK} img`,
    )
  ) {
    if (img.complete && !img.naturalWidth) markGone(img);
  }
}
