import { type RefObject } from "preact";
import { useEffect } from "preact/hooks";

/** Focuses (and selects the text of) a field once shown; only with a mouse unless always, since on a phone it would pop the keyboard unasked. */
export function useFocusOnMount(
  ref: RefObject<HTMLInputElement | HTMLTextAreaElement | null>,
  always?: boolean,
): void {
  useEffect(() => {
    if (always || matchMedia("(pointer: fine)").matches) {
      ref.current!.focus();
      ref.current!.select();
    }
  }, []);
}
