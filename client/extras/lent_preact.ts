/**
 * The host's `h`, lent by extras.tsx's start(). tools/build_client.ts maps
 * the lazy chunks' `preact` imports here, so their JSX (type-checked against
 * the real Preact) calls the page's one Preact instead of a second copy.
 */
import type { h as preactH } from "preact";

/** The page's h; set before anything renders. */
export let h: typeof preactH;

/** Sets h (once, from the host). */
export function lendH(host: typeof preactH): void {
  h = host;
}
