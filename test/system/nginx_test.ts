// deploy/nginx.conf, run as shipped (only its listen port, upstream
// addresses and temp paths changed) in front of two instances.
import {
  proxyTest,
  replaceOnce,
  startProcess,
} from "../harness/proxy_checks.ts";

const CONFIG = new URL("../../deploy/nginx.conf", import.meta.url);
const TEMP_PATHS = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"];

proxyTest({
  name: "nginx",
  binary: "nginx",
  packageName: "nginx",
  retriesPosts: true,
  async start(binary, dir, port, [first, second]) {
    let conf = await Deno.readTextFile(CONFIG);
    conf = replaceOnce(conf, "listen 8000;", `listen 127.0.0.1:${port};`);
    conf = replaceOnce(conf, "server plaza1:8000", `server ${first}`);
    conf = replaceOnce(conf, "server plaza2:8000", `server ${second}`);
    // Temp files in the test's folder, not the system's /var/lib/nginx.
    conf = replaceOnce(
      conf,
      "\nhttp {\n",
      `\nhttp {\n${
        TEMP_PATHS.map((p) => `    ${p}_temp_path ${dir}/${p};\n`).join("")
      }`,
    );
    await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
    const process = await startProcess(binary, [
      "-p",
      dir,
      "-c",
      `${dir}/nginx.conf`,
      "-e",
      "stderr",
      // The notice level says when the workers (and so the listener) are up.
      "-g",
      `daemon off; pid ${dir}/nginx.pid; error_log stderr notice;`,
    ], /start worker process/);
    return { url: `http://127.0.0.1:${port}`, ...process };
  },
});
