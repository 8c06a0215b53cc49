// deploy/haproxy.cfg, run as shipped (only its bind port and server
// addresses changed) in front of two instances.
import {
  proxyTest,
  replaceOnce,
  startProcess,
} from "../harness/proxy_checks.ts";

const CONFIG = new URL("../../deploy/haproxy.cfg", import.meta.url);

proxyTest({
  name: "HAProxy",
  binary: "haproxy",
  packageName: "haproxy",
  retriesPosts: true,
  async start(binary, dir, port, [first, second]) {
    let cfg = await Deno.readTextFile(CONFIG);
    cfg = replaceOnce(cfg, "bind :8000\n", `bind 127.0.0.1:${port}\n`);
    cfg = replaceOnce(
      cfg,
      "server plaza1 plaza1:8000 ",
      `server plaza1 ${first} `,
    );
    cfg = replaceOnce(
      cfg,
      "server plaza2 plaza2:8000 ",
      `server plaza2 ${second} `,
    );
    await Deno.writeTextFile(`${dir}/haproxy.cfg`, cfg);
    // -W -db: master-worker in the foreground, as the Docker image runs it;
    // the master says "Loading success." once the worker listens.
    const process = await startProcess(
      binary,
      ["-W", "-db", "-f", `${dir}/haproxy.cfg`],
      /Loading success/,
    );
    return { url: `http://127.0.0.1:${port}`, ...process };
  },
});
