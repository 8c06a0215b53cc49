# Plaza in a container. A later hardening pass makes this multi-stage; for
# now: dependencies cached from deno.lock, client built at image build time,
# server run as the non-root `deno` user with only the permissions it needs.
FROM denoland/deno:2.9.6

WORKDIR /app

# Dependencies first, so editing the source does not refetch them.
COPY deno.json deno.lock ./
RUN deno install --frozen

COPY db ./db
COPY server ./server
COPY client ./client
RUN deno task build \
  && deno cache server/main.ts \
  && mkdir -p /app/data \
  && chown deno:deno /app/data

USER deno
ENV PORT=8000 DATA_DIR=/app/data
EXPOSE 8000
# Writes go only to the embedded database's directory; with DATABASE_URL set
# nothing is written at all.
CMD ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write=/app/data", "server/main.ts"]
