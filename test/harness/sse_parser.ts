/** One parsed server-sent event. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** What the parser reports besides events. */
export interface SseParserHandlers {
  onEvent(event: SseEvent): void;
  /** A comment line (heartbeats), without the colon. */
  onComment?(text: string): void;
  /** A `retry:` value. */
  onRetry?(ms: number): void;
}

/** Feeds decoded text in chunks of any size; events come out as EventSource would see them. */
export interface SseParser {
  push(text: string): void;
}

/** An incremental parser of the text/event-stream format (test and soak side). */
export function createSseParser(handlers: SseParserHandlers): SseParser {
  let buffer = "";
  let current: { id?: string; event?: string; data: string[] } = { data: [] };
  const line = (text: string) => {
    if (text === "") {
      if (current.data.length > 0) {
        handlers.onEvent({
          id: current.id,
          event: current.event ?? "message",
          data: current.data.join("\n"),
        });
      }
      current = { data: [] };
      return;
    }
    if (text.startsWith(":")) {
      handlers.onComment?.(text.slice(1).trim());
      return;
    }
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") current.data.push(value);
    else if (field === "id") current.id = value;
    else if (field === "event") current.event = value;
    else if (field === "retry") handlers.onRetry?.(Number(value));
  };
  return {
    push(text) {
      buffer += text;
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
        const end = buffer.startsWith("\r\n", newline) ? 2 : 1;
        // A lone "\r" at the end of a chunk may be half of "\r\n": wait.
        if (
          end === 1 && buffer[newline] === "\r" && newline === buffer.length - 1
        ) {
          break;
        }
        line(buffer.slice(0, newline));
        buffer = buffer.slice(newline + end);
      }
    },
  };
}
