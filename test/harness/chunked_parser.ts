/**
 * An incremental decoder of HTTP/1.1 chunked transfer coding (RFC 9112 §7.1),
 * for clients that speak raw TCP: the benchmark's load generator holds tens of
 * thousands of streams, where `fetch` would cost far more per socket.
 */

/** Thrown when the bytes are not valid chunked coding. */
export class ChunkedEncodingError extends Error {
  override name = "ChunkedEncodingError";
}

/** Feeds raw bytes in pieces of any size; body bytes come out as they arrive. */
export interface ChunkedDecoder {
  /**
   * Decodes `bytes`, calling onData with each piece of body (subarrays of
   * `bytes`, valid only during the call). Returns how many bytes were used:
   * fewer than given only once the body ended (the rest is the next response).
   */
  push(bytes: Uint8Array): number;
  /** True once the last (zero-size) chunk and the trailer section were read. */
  readonly done: boolean;
}

// States of the decoder, as small integers: push() runs once per socket read.
const State = {
  Size: 0,
  Extension: 1,
  SizeLf: 2,
  Data: 3,
  DataCr: 4,
  DataLf: 5,
  Trailer: 6,
  Done: 7,
} as const;

const CR = 13;
const LF = 10;
// Far beyond any chunk a test server sends; keeps the size an exact integer.
const MAX_CHUNK = 2 ** 40;

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  if (byte >= 97 && byte <= 102) return byte - 87;
  if (byte >= 65 && byte <= 70) return byte - 55;
  return -1;
}

/** Creates a decoder that hands each piece of body to `onData`. */
export function createChunkedDecoder(
  onData: (piece: Uint8Array) => void,
): ChunkedDecoder {
  let state: number = State.Size;
  let size = 0;
  let digits = 0;
  let remaining = 0;
  let trailerLine = 0;

  const endOfSizeLine = () => {
    if (digits === 0) throw new ChunkedEncodingError("chunk size missing");
    if (size === 0) {
      state = State.Trailer;
      trailerLine = 0;
    } else {
      state = State.Data;
      remaining = size;
    }
  };

  return {
    get done() {
      return state === State.Done;
    },
    push(bytes) {
      let i = 0;
      const n = bytes.length;
      while (i < n && state !== State.Done) {
        const byte = bytes[i];
        switch (state) {
          case State.Size: {
            const v = hexValue(byte);
            if (v >= 0) {
              size = size * 16 + v;
              digits++;
              if (size > MAX_CHUNK) {
                throw new ChunkedEncodingError("chunk size too large");
              }
            } else if (byte === CR) state = State.SizeLf;
            else if (byte === LF) endOfSizeLine();
            else if (byte === 59 || byte === 32 || byte === 9) {
              // ";ext=value" or whitespace before it: extensions are ignored.
              state = State.Extension;
            } else {
              throw new ChunkedEncodingError(
                `unexpected byte ${byte} in chunk size`,
              );
            }
            i++;
            break;
          }
          case State.Extension:
            if (byte === CR) state = State.SizeLf;
            else if (byte === LF) endOfSizeLine();
            i++;
            break;
          case State.SizeLf:
            if (byte !== LF) {
              throw new ChunkedEncodingError("chunk size line not ended by LF");
            }
            endOfSizeLine();
            i++;
            break;
          case State.Data: {
            const take = Math.min(remaining, n - i);
            onData(bytes.subarray(i, i + take));
            remaining -= take;
            i += take;
            if (remaining === 0) state = State.DataCr;
            break;
          }
          case State.DataCr:
            // A bare LF is tolerated, as most HTTP clients do.
            if (byte === CR) state = State.DataLf;
            else if (byte === LF) state = State.Size;
            else throw new ChunkedEncodingError("chunk data not ended by CRLF");
            if (state === State.Size) {
              size = 0;
              digits = 0;
            }
            i++;
            break;
          case State.DataLf:
            if (byte !== LF) {
              throw new ChunkedEncodingError("chunk data not ended by CRLF");
            }
            state = State.Size;
            size = 0;
            digits = 0;
            i++;
            break;
          case State.Trailer:
            // Trailer fields are skipped; an empty line ends the message.
            if (byte === LF) {
              if (trailerLine === 0) state = State.Done;
              trailerLine = 0;
            } else if (byte !== CR) trailerLine++;
            i++;
            break;
        }
      }
      return i;
    },
  };
}
