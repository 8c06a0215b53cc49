import { type Config, ConfigError, loadConfig } from "./config.ts";
import { createLogger, type Logger } from "./observe/logger.ts";
import {
  CLOSE_MS,
  SHUTDOWN_GRACE_MS,
  startPlaza,
  StartupError,
} from "./plaza.ts";
import { registerPushCron } from "./push/cron.ts";
import { availableMemoryBytes } from "./limits/memory.ts";

// Here, at module top level, before main() serves: the only place Deno
// Deploy looks for crons (server/push/cron.ts says why there is one).
const pushCron = registerPushCron(Deno);

function fail(logger: Logger, message: string): never {
  logger.error("start_failed", { message: `Cannot start server: ${message}` });
  Deno.exit(1);
}

/** Entry point of `deno task start`: reads the environment once and serves until SIGINT/SIGTERM. */
export async function main(): Promise<void> {
  let plaza;
  let config: Config;
  // Until the config says otherwise (a bad LOG_LEVEL must still be reported).
  let logger = createLogger({ level: "info" });
  try {
    config = loadConfig(Deno.env.toObject(), {
      memoryBytes: await availableMemoryBytes(),
    });
    logger = createLogger({ level: config.logLevel });
    plaza = await startPlaza(config, {
      // The message keeps a space after the URL: scripts and tests find it
      // with /listening on (http:\/\/\S+)/ in the JSON line.
      onListen: (url) =>
        logger.info("listening", {
          url,
          message: `Plaza is listening on ${url} (pid ${Deno.pid})`,
          database: config.databaseUrl === null ? "embedded" : "postgres",
          deno: Deno.version.deno,
          pushCron,
          memoryLimitMb: config.memoryLimitMb,
          maxStreams: config.maxStreams,
        }),
      logger,
    });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StartupError) {
      fail(logger, error.message);
    }
    throw error;
  }
  // Past this the process exits whatever is still closing: every message
  // answered 201 is committed already, and the platform's kill (5 s after
  // the signal on Deno Deploy) must not come first.
  const deadlineMs = config.drainMs + SHUTDOWN_GRACE_MS + CLOSE_MS;
  let stopping = false;
  const stop = async () => {
    // A second Ctrl-C means "now".
    if (stopping) Deno.exit(1);
    stopping = true;
    logger.info("shutting_down", { message: "Shutting down…" });
    setTimeout(() => {
      logger.error("shutdown_deadline", {
        message:
          `Still closing ${deadlineMs} ms after the signal; exiting anyway.`,
      });
      Deno.exit(1);
    }, deadlineMs);
    await plaza.shutdown();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

if (import.meta.main) await main();
