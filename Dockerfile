# Plaza in a container, in two stages so the image that runs carries only what
# the server needs. scripts/docker_steps.ts replays these RUN and CMD lines
# outside Docker (no engine on the dev machines) and server/docker_steps_test.ts
# runs it, so keep every RUN a plain shell command it can execute in a copy of
# the repository.

# --- build: all dependencies (esbuild, preact…), the client bundle ----------
FROM denoland/deno:2.9.6 AS build
WORKDIR /app

# Dependencies first, so editing the source does not refetch them. --frozen:
# a deno.lock that does not match deno.json fails the build instead of being
# rewritten. vendor/ holds the patched postgres.js that deno.json links in.
COPY deno.json deno.lock ./
COPY vendor ./vendor
RUN deno install --frozen

COPY db ./db
COPY server ./server
COPY client ./client
RUN deno task build

# --- runtime: the server, its npm packages (hono, postgres, pglite, web-push), the built client
FROM denoland/deno:2.9.6
WORKDIR /app

COPY deno.json deno.lock ./
COPY vendor ./vendor
COPY db ./db
COPY server ./server
COPY --from=build /app/dist ./dist
# With "nodeModulesDir": "auto", `deno cache` installs every package of the
# lock, not only those server/main.ts imports; so drop the client and tooling
# imports (esbuild, preact, playwright-core, axe-core) from this stage's
# deno.json first. The remaining packages keep their exact pins and are still
# checked against deno.lock's integrity hashes; only the unused entries are
# pruned from it, which is why this step cannot use --frozen.
RUN deno eval --no-config 'const c = JSON.parse(await Deno.readTextFile("deno.json")); for (const k of ["esbuild", "preact", "preact/", "@preact/signals", "playwright-core", "axe-core"]) delete c.imports[k]; await Deno.writeTextFile("deno.json", JSON.stringify(c, null, 2));' \
  && deno cache server/main.ts \
  && mkdir -p data \
  && chown deno:deno data

USER deno
ENV PORT=8000 DATA_DIR=/app/data
EXPOSE 8000
# The image has no curl: Deno itself asks /healthz, which answers 503 when the
# database or this instance's LISTEN session is down.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "eval", "--no-config", "const r = await fetch(`http://127.0.0.1:${Deno.env.get('PORT') ?? 8000}/healthz`); await r.body?.cancel(); Deno.exit(r.ok ? 0 : 1);"]
# Writes go only to the embedded database's directory; with DATABASE_URL set
# nothing is written at all. --cached-only: everything was fetched above, so a
# start never reaches out to a registry.
CMD ["run", "--cached-only", "--allow-net", "--allow-env", "--allow-read", "--allow-write=/app/data", "server/main.ts"]
