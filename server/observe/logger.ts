import { LOG_LEVELS, type LogLevel } from "../config.ts";

/** Extra fields of one event; they are merged into its JSON line. */
export type LogFields = Record<string, unknown>;

/** Writes one JSON line per event; `event` is a short snake_case name that log queries can match. */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

/** Options of createLogger; `write` replaces stdout/stderr (tests). */
export interface LoggerOptions {
  level: LogLevel;
  /** Receives each finished line (without newline) and its level. */
  write?: (line: string, level: LogLevel) => void;
  /** Clock, injectable for tests. */
  now?: () => Date;
}

/** Turns an Error (or anything thrown) into plain JSON fields; JSON.stringify drops an Error's message. */
export function describeError(error: unknown): LogFields {
  if (error instanceof Error) {
    const fields: LogFields = {
      name: error.name,
      message: error.message,
      stack: error.stack,
    };
    if (error.cause !== undefined) fields.cause = describeError(error.cause);
    return fields;
  }
  return { message: String(error) };
}

// Warnings and errors go to stderr, the rest to stdout, as process
// supervisors and `docker logs` expect.
function defaultWrite(line: string, level: LogLevel): void {
  if (level === "warn" || level === "error") console.error(line);
  else console.log(line);
}

function serialise(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v) => {
      if (v instanceof Error) return describeError(v);
      if (typeof v === "bigint") return v.toString();
      return v;
    });
  } catch {
    // A cycle or a throwing getter must not lose the event itself.
    return JSON.stringify({
      time: (value as LogFields).time,
      level: (value as LogFields).level,
      event: (value as LogFields).event,
      logError: "fields could not be serialised",
    });
  }
}

/** Creates a logger that drops events below `level`. */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const write = options.write ?? defaultWrite;
  const now = options.now ?? (() => new Date());
  const at = (level: LogLevel) => (event: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    // time, level and event first and not overridable by fields, so every
    // line can be parsed the same way.
    const { time: _time, level: _level, event: _event, ...rest } = fields;
    write(
      serialise({ time: now().toISOString(), level, event, ...rest }),
      level,
    );
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}

/** A logger that writes nothing, for tests and embedding. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
