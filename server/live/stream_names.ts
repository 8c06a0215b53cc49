/**
 * The names this instance's open streams were opened under (GET /stream
 * ?name=), counted per name key. Presence (presence.ts) writes only the keys
 * whose count went 0→1 or 1→0 since its last tick, so a name's tenth tab
 * costs no database write.
 */

/** One name as shown: its key (nameKey) and display form. */
export interface PresentName {
  key: string;
  name: string;
}

/** Per-key stream counts of this instance. */
export interface StreamNames {
  /** Counts one more stream under `name`; returns the function that uncounts it (safe to call twice). */
  add(name: PresentName): () => void;
  /** Bumped whenever a key appears or disappears: cached lists compare it. */
  readonly version: number;
  /** The keys present now with their display forms. */
  current(): ReadonlyMap<string, string>;
  /** Keys that appeared or disappeared since the last call, with their display form or null when gone; clears them. */
  takeChanges(): Map<string, string | null>;
  /** Puts keys back to be written again (a write that failed). */
  markChanged(keys: Iterable<string>): void;
  /** Sets the one function told (synchronously) each time a key appears or disappears. */
  watch(onChange: () => void): void;
}

/** Creates an empty set of counts. */
export function createStreamNames(): StreamNames {
  const counts = new Map<string, { name: string; streams: number }>();
  const names = new Map<string, string>();
  const changed = new Set<string>();
  let version = 0;
  let onChange = () => {};
  return {
    add({ key, name }) {
      const entry = counts.get(key);
      if (entry) {
        entry.streams++;
      } else {
        counts.set(key, { name, streams: 1 });
        names.set(key, name);
        changed.add(key);
        version++;
        onChange();
      }
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const e = counts.get(key)!;
        if (--e.streams > 0) return;
        counts.delete(key);
        names.delete(key);
        changed.add(key);
        version++;
        onChange();
      };
    },
    get version() {
      return version;
    },
    current: () => names,
    takeChanges() {
      const out = new Map<string, string | null>();
      for (const key of changed) out.set(key, names.get(key) ?? null);
      changed.clear();
      return out;
    },
    markChanged(keys) {
      for (const key of keys) changed.add(key);
    },
    watch(fn) {
      onChange = fn;
    },
  };
}
