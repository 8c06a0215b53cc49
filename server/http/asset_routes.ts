import type { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import { type ClientAssets, ROOT_FILES } from "./client_assets.ts";
import { errorResponse } from "./http_error.ts";

/** Adds GET / (the HTML shell), /assets/:file and the ROOT_FILES (see client_assets.ts). */
export function registerAssetRoutes(
  app: Hono<AppEnv>,
  assets: ClientAssets | null,
): void {
  app.get("/", () => {
    if (assets === null) {
      return new Response(
        "Plaza's client is not built yet: run `deno task build`, then reload.\n",
        {
          status: 503,
          headers: { "Content-Type": "text/plain; charset=utf-8" },
        },
      );
    }
    return new Response(assets.index.body, { headers: assets.index.headers });
  });
  const serveFile = (c: { req: { path: string } }) => {
    const asset = assets?.files.get(c.req.path);
    if (!asset) return errorResponse(404, "No such asset.");
    return new Response(asset.body, { headers: asset.headers });
  };
  app.get("/assets/:file", serveFile);
  for (const path of ROOT_FILES) app.get(path, serveFile);
}
