// deploy/Caddyfile, run as shipped (only its upstream addresses changed, and
// bound to 127.0.0.1) in front of two instances.
import {
  proxyTest,
  replaceOnce,
  startProcess,
} from "../harness/proxy_checks.ts";

const CONFIG = new URL("../../deploy/Caddyfile", import.meta.url);

proxyTest({
  name: "Caddy",
  binary: "caddy",
  packageName: "caddy",
  // Caddy 2.6 cannot resend a request body on a retry (see deploy/Caddyfile).
  retriesPosts: false,
  lingeringStreams:
    "Caddy 2.6 notices a browser that left only when a heartbeat write fails",
  async start(binary, dir, port, [first, second]) {
    let file = await Deno.readTextFile(CONFIG);
    file = replaceOnce(
      file,
      "reverse_proxy plaza1:8000 plaza2:8000 {",
      `reverse_proxy ${first} ${second} {`,
    );
    // A site address names no interface; bind keeps the listener on loopback.
    file = replaceOnce(
      file,
      "{$SITE_ADDRESS::8000} {\n",
      "{$SITE_ADDRESS::8000} {\n\tbind 127.0.0.1\n",
    );
    await Deno.writeTextFile(`${dir}/Caddyfile`, file);
    const process = await startProcess(
      binary,
      ["run", "--config", `${dir}/Caddyfile`, "--adapter", "caddyfile"],
      /serving initial configuration/,
      {
        SITE_ADDRESS: `:${port}`,
        CADDY_ADMIN: "off",
        // Caddy keeps its data (certificates, autosaved config) under these.
        HOME: dir,
        XDG_DATA_HOME: `${dir}/data`,
        XDG_CONFIG_HOME: `${dir}/config`,
      },
    );
    return { url: `http://127.0.0.1:${port}`, ...process };
  },
});
