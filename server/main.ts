import { ConfigError, loadConfig } from "./config.ts";
import { startPlaza, StartupError } from "./plaza.ts";

function fail(message: string): never {
  console.error(`Cannot start server: ${message}`);
  Deno.exit(1);
}

/** Entry point of `deno task start`: reads the environment once and serves until SIGINT/SIGTERM. */
export async function main(): Promise<void> {
  let plaza;
  try {
    const config = loadConfig(Deno.env.toObject());
    plaza = await startPlaza(config, {
      onListen: (url) => console.log(`Plaza is listening on ${url}`),
      onWarning: (message) => console.warn(message),
    });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StartupError) {
      fail(error.message);
    }
    throw error;
  }
  let stopping = false;
  const stop = async () => {
    // A second Ctrl-C means "now".
    if (stopping) Deno.exit(1);
    stopping = true;
    console.log("Shutting down…");
    await plaza.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

if (import.meta.main) await main();
