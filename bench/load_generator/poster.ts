/**
 * POST /messages (or any JSON request: edits, reactions) over raw keep-alive
 * HTTP/1.1 connections, as the load generator sends them: the send time is
 * taken just before the request is written, so time queued in the pool is
 * not counted as latency.
 */

import { createChunkedDecoder } from "../../test/harness/chunked_parser.ts";
import { Histogram } from "../histogram.ts";
import { countError, type PostStats } from "./protocol.ts";

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** A JSON request: method, path, body and the bearer token to send, if any. */
export interface JsonRequest {
  method: string;
  path: string;
  json: string;
  token?: string;
}

/** One keep-alive HTTP/1.1 connection that sends JSON requests, one at a time. */
class Poster {
  private conn: Deno.Conn | null = null;
  private buffer = new Uint8Array(16 * 1024);
  private have = 0;

  constructor(private port: number) {}

  /** Writes the request, calling `onSent` just before; resolves with status and body. */
  async send(
    req: JsonRequest,
    onSent: (at: number) => void,
  ): Promise<{ status: number; body: string }> {
    this.conn ??= await Deno.connect({
      hostname: "127.0.0.1",
      port: this.port,
    });
    const body = enc.encode(req.json);
    const auth = req.token === undefined
      ? ""
      : `Authorization: Bearer ${req.token}\r\n`;
    const head = enc.encode(
      `${req.method} ${req.path} HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const request = new Uint8Array(head.length + body.length);
    request.set(head);
    request.set(body, head.length);
    try {
      onSent(performance.now());
      let written = 0;
      while (written < request.length) {
        written += await this.conn.write(request.subarray(written));
      }
      return await this.readResponse();
    } catch (error) {
      // The connection is in an unknown state: start a new one next time.
      this.close();
      throw error;
    }
  }

  close() {
    try {
      this.conn?.close();
    } catch {
      // Already closed.
    }
    this.conn = null;
    this.have = 0;
  }

  private async fill() {
    if (this.have === this.buffer.length) {
      const bigger = new Uint8Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    const n = await this.conn!.read(this.buffer.subarray(this.have));
    if (n === null) throw new Error("connection closed before the answer");
    this.have += n;
  }

  private consume(n: number) {
    this.buffer.copyWithin(0, n, this.have);
    this.have -= n;
  }

  private async readResponse(): Promise<{ status: number; body: string }> {
    let end: number;
    for (;;) {
      end = latin1.decode(this.buffer.subarray(0, this.have)).indexOf(
        "\r\n\r\n",
      );
      if (end !== -1) break;
      await this.fill();
    }
    const lines = latin1.decode(this.buffer.subarray(0, end)).split("\r\n");
    this.consume(end + 4);
    const status = Number(lines[0].match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
    const header = (name: string) => {
      const re = new RegExp(`^${name}:\\s*(.*?)\\s*$`, "i");
      for (const l of lines) {
        const m = l.match(re);
        if (m) return m[1];
      }
      return null;
    };
    const decoder = new TextDecoder();
    const length = header("content-length");
    if (length !== null) {
      const n = Number(length);
      while (this.have < n) await this.fill();
      const body = decoder.decode(this.buffer.subarray(0, n));
      this.consume(n);
      return { status, body };
    }
    if (/chunked/i.test(header("transfer-encoding") ?? "")) {
      let body = "";
      const chunks = createChunkedDecoder((piece) => {
        body += decoder.decode(piece, { stream: true });
      });
      for (;;) {
        const used = chunks.push(this.buffer.subarray(0, this.have));
        this.consume(used);
        if (chunks.done) return { status, body };
        await this.fill();
      }
    }
    throw new Error(`answer without a length: ${lines[0]}`);
  }
}

/** Runs requests over `concurrency` keep-alive connections. */
export class PostPool {
  private posters: Poster[];
  private idle: Poster[];
  private waiting: ((p: Poster) => void)[] = [];
  readonly latencies = new Histogram();
  readonly statuses: Record<string, number> = {};
  readonly errors: Record<string, number> = {};
  sent = 0;
  firstSentAt = Infinity;
  lastAnswerAt = 0;

  constructor(port: number, concurrency: number) {
    this.posters = Array.from({ length: concurrency }, () => new Poster(port));
    this.idle = [...this.posters];
  }

  /** Sends one message as soon as a connection is free; resolves with the answer (status 0 = failed). */
  send(
    text: string,
    onSent?: (at: number) => void,
  ): Promise<{ status: number; body: string }> {
    return this.request({
      method: "POST",
      path: "/messages",
      json: JSON.stringify({ author: "bench", text }),
    }, onSent);
  }

  /** Sends `req` as soon as a connection is free; resolves with the answer (status 0 = failed). */
  async request(
    req: JsonRequest,
    onSent?: (at: number) => void,
  ): Promise<{ status: number; body: string }> {
    const poster = this.idle.pop() ??
      await new Promise<Poster>((resolve) => this.waiting.push(resolve));
    let sentAt = 0;
    try {
      const answer = await poster.send(
        req,
        (at) => {
          sentAt = at;
          this.sent++;
          if (at < this.firstSentAt) this.firstSentAt = at;
          onSent?.(at);
        },
      );
      const now = performance.now();
      this.lastAnswerAt = Math.max(this.lastAnswerAt, now);
      this.latencies.add(now - sentAt);
      this.statuses[answer.status] = (this.statuses[answer.status] ?? 0) + 1;
      return answer;
    } catch (error) {
      this.statuses.error = (this.statuses.error ?? 0) + 1;
      countError(this.errors, error);
      return { status: 0, body: "" };
    } finally {
      const waiter = this.waiting.shift();
      if (waiter) waiter(poster);
      else this.idle.push(poster);
    }
  }

  stats(): PostStats {
    return {
      sent: this.sent,
      statuses: this.statuses,
      latency: this.latencies.distribution(),
      errors: this.errors,
    };
  }

  close() {
    for (const p of this.posters) p.close();
  }
}
