# Plaza in a container, in two stages so the image that runs carries only what
# the server needs. tools/docker_steps.ts replays these RUN and CMD lines
# outside Docker (no engine on the dev machines) and test/system/docker_steps_test.ts
# runs it, so keep every RUN a plain shell command it can execute in a copy of
# the repository.

# --- build: all dependencies (esbuild, preact…), the client bundle ----------
FROM denoland/deno:2.9.6 AS build
WORKDIR /app

# Dependencies first, so editing the source does not refetch them. --frozen:
# a deno.lock that does not match deno.json fails the build instead of being
# rewritten. vendor/ holds the patched postgres.js that deno.json links in.
# This is the only step that reaches the registry (through the builder's
# proxy, if any); everything after it works from the cache it filled.
COPY deno.json deno.lock ./
COPY vendor ./vendor
RUN deno install --frozen

COPY protocol ./protocol
COPY db ./db
COPY server ./server
COPY client ./client
COPY tools/build_client.ts ./tools/build_client.ts
RUN deno task build

# The runtime's files, with only the server's npm packages (hono, postgres,
# pglite, web-push). The client and tooling imports (esbuild, preact,
# playwright-core, axe-core) are dropped from this copy's deno.json, and
# `deno install --cached-only` takes the rest from the cache the frozen
# install above filled and checked against deno.lock's integrity hashes: no
# second resolution, no network, the same versions. It prunes the unused
# entries from this copy's deno.lock, which is why it is not --frozen.
RUN mkdir runtime \
  && cp -r deno.json deno.lock vendor protocol db server dist runtime/ \
  && cd runtime \
  && deno eval --no-config 'const c = JSON.parse(await Deno.readTextFile("deno.json")); for (const k of ["esbuild", "preact", "preact/", "@preact/signals", "playwright-core", "axe-core"]) delete c.imports[k]; await Deno.writeTextFile("deno.json", JSON.stringify(c, null, 2));' \
  && deno install --cached-only --entrypoint server/main.ts \
  && mkdir data

# --- runtime: the server, its node_modules and the built client -------------
FROM denoland/deno:2.9.6
WORKDIR /app

COPY --from=build /app/runtime ./
RUN chown deno:deno data

USER deno
ENV PORT=8000 DATA_DIR=/app/data
EXPOSE 8000
# The image has no curl: Deno itself asks /healthz, which answers 503 when the
# database or this instance's LISTEN session is down.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "eval", "--no-config", "const r = await fetch(`http://127.0.0.1:${Deno.env.get('PORT') ?? 8000}/healthz`); await r.body?.cancel(); Deno.exit(r.ok ? 0 : 1);"]
# Writes go only to the embedded database's directory; with DATABASE_URL set
# nothing is written at all. --cached-only: node_modules holds every package,
# so a start never reaches out to a registry.
CMD ["run", "--cached-only", "--allow-net", "--allow-env", "--allow-read", "--allow-write=/app/data", "server/main.ts"]
