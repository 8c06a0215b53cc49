/**
 * A byte-level reader of the event streams the benchmark's two targets send.
 *
 * Why not test/harness/sse_parser.ts: that parser works on decoded text and
 * the generator would then JSON.parse every event, about 1.5 µs per event on
 * this machine; the burst scenario parses a million events on a core it
 * shares with the server, so the generator would partly measure itself. This
 * reader finds what the benchmark needs (event type, id, and the round and
 * sequence number inside the text "bench-<round>-<seq>") without decoding.
 * It knows only what Plaza's sse_format.ts writes: LF line ends, "field: value".
 * sse_bytes_test.ts checks it against sse_parser.ts on the same bytes.
 */

/** What the benchmark reads from one event; reused between calls. */
export interface BenchEvent {
  /** False for blocks EventSource would not dispatch (comments, `retry:` alone). */
  hasData: boolean;
  /** The `event:` field ("message" when absent, as EventSource does). */
  isMessage: boolean;
  isHello: boolean;
  /** The `id:` field, or -1. */
  id: number;
  /** From a text "bench-<round>-<seq>"; -1 when the text is not one. */
  round: number;
  seq: number;
}

/** Splits a byte stream into events (the bytes between blank lines). */
export interface SseSplitter {
  /** Feeds body bytes; calls onEvent for each complete event, synchronously. */
  push(bytes: Uint8Array): void;
}

const LF = 10;
const EMPTY = new Uint8Array(0);

/** Creates a splitter; `onEvent` gets a view valid only during the call. */
export function createSseSplitter(
  onEvent: (event: Uint8Array) => void,
): SseSplitter {
  // Bytes of an event cut by a read boundary; empty most of the time, since
  // servers write whole events.
  let carry: Uint8Array = EMPTY;
  const scan = (bytes: Uint8Array): number => {
    let start = 0;
    const last = bytes.length - 1;
    // A plain loop: typed-array indexOf costs more per call than it saves
    // on events of a couple of hundred bytes.
    for (let i = 0; i < last; i++) {
      if (bytes[i] === LF && bytes[i + 1] === LF) {
        if (i > start) onEvent(bytes.subarray(start, i + 1));
        start = i + 2;
        i++;
      }
    }
    return start;
  };
  return {
    push(bytes) {
      let input = bytes;
      if (carry.length > 0) {
        input = new Uint8Array(carry.length + bytes.length);
        input.set(carry);
        input.set(bytes, carry.length);
      }
      const used = scan(input);
      carry = used === input.length ? EMPTY : input.slice(used);
    },
  };
}

const ID = bytesOf("id: ");
const EVENT = bytesOf("event: ");
const DATA = bytesOf("data: ");
const MESSAGE = bytesOf("message");
const HELLO = bytesOf("hello");
const TEXT = bytesOf('"text":"bench-');

function bytesOf(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function startsWith(b: Uint8Array, at: number, end: number, p: Uint8Array) {
  if (end - at < p.length) return false;
  for (let k = 0; k < p.length; k++) if (b[at + k] !== p[k]) return false;
  return true;
}

function equals(b: Uint8Array, at: number, end: number, p: Uint8Array) {
  return end - at === p.length && startsWith(b, at, end, p);
}

function indexOfBytes(b: Uint8Array, p: Uint8Array, from: number, to: number) {
  const first = p[0];
  for (let i = from; i + p.length <= to; i++) {
    if (b[i] === first && startsWith(b, i, to, p)) return i;
  }
  return -1;
}

// Where the last decimal() call stopped; a tuple would allocate per event.
let decimalEnd = 0;

/** Reads a decimal number at b[at..] (-1 if none); sets decimalEnd. */
function decimal(b: Uint8Array, at: number, end: number): number {
  let v = 0;
  let i = at;
  while (i < end && b[i] >= 48 && b[i] <= 57) {
    v = v * 10 + (b[i] - 48);
    i++;
  }
  decimalEnd = i;
  return i === at ? -1 : v;
}

/** Reads one event's fields into `out` (which it returns); no allocation. */
export function readBenchEvent(b: Uint8Array, out: BenchEvent): BenchEvent {
  out.isMessage = true;
  out.isHello = false;
  out.id = -1;
  out.round = -1;
  out.seq = -1;
  let dataStart = -1;
  let dataEnd = -1;
  let start = 0;
  while (start < b.length) {
    let end = start;
    while (end < b.length && b[end] !== LF) end++;
    if (startsWith(b, start, end, ID)) {
      out.id = decimal(b, start + ID.length, end);
    } else if (startsWith(b, start, end, EVENT)) {
      const at = start + EVENT.length;
      out.isMessage = equals(b, at, end, MESSAGE);
      out.isHello = equals(b, at, end, HELLO);
    } else if (startsWith(b, start, end, DATA) && dataStart === -1) {
      dataStart = start + DATA.length;
      dataEnd = end;
    }
    start = end + 1;
  }
  out.hasData = dataStart !== -1;
  if (!out.hasData) {
    out.isMessage = false;
    out.isHello = false;
  }
  if (out.isMessage) {
    const at = indexOfBytes(b, TEXT, dataStart, dataEnd);
    if (at !== -1) {
      const round = decimal(b, at + TEXT.length, dataEnd);
      if (round !== -1 && b[decimalEnd] === 45 /* - */) {
        const seq = decimal(b, decimalEnd + 1, dataEnd);
        // The text must end right there: "bench-1-23x" is not ours.
        if (seq !== -1 && b[decimalEnd] === 34 /* " */) {
          out.round = round;
          out.seq = seq;
        }
      }
    }
  }
  return out;
}

/** A fresh result object for readBenchEvent. */
export function newBenchEvent(): BenchEvent {
  return {
    hasData: false,
    isMessage: false,
    isHello: false,
    id: -1,
    round: -1,
    seq: -1,
  };
}
