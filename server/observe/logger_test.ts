import assert from "node:assert/strict";
import type { LogLevel } from "../config.ts";
import { createLogger } from "./logger.ts";

function capture(level: LogLevel) {
  const lines: { line: string; level: LogLevel }[] = [];
  const logger = createLogger({
    level,
    write: (line, at) => lines.push({ line, level: at }),
    now: () => new Date("2026-11-27T10:00:00.000Z"),
  });
  return { logger, lines };
}

Deno.test("createLogger writes one JSON line per event: time, level, event first, then the fields", () => {
  const { logger, lines } = capture("info");
  logger.info("listen_up", { reconnect: false, open: 3 });
  assert.equal(lines.length, 1);
  assert.equal(
    lines[0].line,
    '{"time":"2026-11-27T10:00:00.000Z","level":"info","event":"listen_up","reconnect":false,"open":3}',
  );
  assert.equal(lines[0].level, "info");
  assert.ok(!lines[0].line.includes("\n"));
});

Deno.test("createLogger drops events below its level", () => {
  const { logger, lines } = capture("warn");
  logger.debug("a");
  logger.info("b");
  logger.warn("c");
  logger.error("d");
  assert.deepEqual(
    lines.map((l) => JSON.parse(l.line).event),
    ["c", "d"],
  );
  const all = capture("debug");
  all.logger.debug("x");
  assert.equal(all.lines.length, 1);
});

Deno.test("createLogger keeps errors readable and does not let fields override time, level or event", () => {
  const { logger, lines } = capture("info");
  logger.error("request_failed", {
    level: "debug",
    event: "spoofed",
    time: "never",
    error: new Error("boom", { cause: new Error("root") }),
    newlines: "a\nb",
  });
  const entry = JSON.parse(lines[0].line);
  assert.equal(entry.level, "error");
  assert.equal(entry.event, "request_failed");
  assert.equal(entry.time, "2026-11-27T10:00:00.000Z");
  assert.equal(entry.error.message, "boom");
  assert.equal(entry.error.cause.message, "root");
  assert.equal(entry.newlines, "a\nb");
  assert.equal(lines[0].line.split("\n").length, 1);
});

Deno.test("createLogger still writes the event when its fields cannot be serialised", () => {
  const { logger, lines } = capture("info");
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  logger.warn("odd", { cycle });
  const entry = JSON.parse(lines[0].line);
  assert.equal(entry.event, "odd");
  assert.equal(entry.level, "warn");
});
