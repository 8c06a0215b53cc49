/**
 * "Erase everything I posted", in the name panel of the extras chunk: after
 * a confirmation, DELETE /names/<name>/messages with the name's token. The
 * server removes every message and reaction of the name (the stream's
 * `delete` events take them off this page and every other) and releases the
 * name; this device then forgets the token.
 */
// Built against client/extras/lent_preact.ts, the host's h (see there).
import { h } from "preact";
import type { Host } from "../pwa/host.ts";
import { storeToken } from "../names.ts";
import type { OutboxStorage } from "../outbox.ts";

/** What the erase control needs from extras.tsx. */
export interface EraseDeps {
  host: Pick<Host, "signal">;
  /** Sends a change with the token this device holds for `name` (extras.tsx's change). */
  change(
    path: string,
    method: string,
    fields: Record<string, string>,
    name: string,
  ): Promise<Record<string, unknown> | undefined>;
  storage(): OutboxStorage | null;
}

/** The control for `name`: a button, then a confirmation, then what was erased. */
export function eraseMine(deps: EraseDeps) {
  const asking = deps.host.signal(false);
  const done = deps.host.signal("");
  return function Erase({ name }: { name: string }) {
    if (done.value) {
      return <p role="status" data-testid="erased">{done.value}</p>;
    }
    if (!asking.value) {
      return (
        <p>
          <button
            type="button"
            data-testid="erase-mine"
            onClick={() => (asking.value = true)}
          >
            Erase everything I posted
          </button>
        </p>
      );
    }
    return (
      <div role="group" aria-labelledby="erase-ask">
        <p id="erase-ask">
          Erase every message and reaction posted as “{name}”, for everyone, and
          give up the name? This cannot be undone.
        </p>
        <p>
          <button
            type="button"
            data-testid="erase-confirm"
            onClick={async () => {
              const body = await deps.change(
                `/names/${encodeURIComponent(name)}/messages`,
                "DELETE",
                {},
                name,
              );
              asking.value = false;
              if (!body) return;
              storeToken(deps.storage(), name, "");
              const n = Number(body.removedMessages);
              done.value = `Erased ${n} message${
                n === 1 ? "" : "s"
              }; “${name}” is free again.`;
            }}
          >
            Erase them
          </button>{" "}
          <button
            type="button"
            data-testid="erase-cancel"
            onClick={() => (asking.value = false)}
          >
            Cancel
          </button>
        </p>
      </div>
    );
  };
}
