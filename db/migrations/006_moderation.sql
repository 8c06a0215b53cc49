-- Limits every instance shares, and moderators' bans.
--
-- Rate limits (POST_RATE, TYPING_RATE) and STREAMS_PER_ADDRESS used to live
-- in each instance's memory, so N instances allowed N times the limit. Their
-- state is lost on a crash by design (UNLOGGED: no WAL, cheap to update):
-- a lost bucket is a full one, and stream counts are rebuilt as streams
-- reconnect.

-- One token bucket per (kind, address); server/limits/shared_limits.ts
-- refills and spends it in one statement.
create unlogged table rate_buckets (
  kind text not null,
  address text not null,
  tokens double precision not null,
  at timestamptz not null,
  -- Whether the last take was granted (what the upsert returns).
  granted boolean not null,
  primary key (kind, address)
);
create index rate_buckets_at on rate_buckets (at);

-- Open streams per client address, one row per (instance, address). Each
-- instance refreshes its rows' updated_at; rows of an instance that died
-- without cleaning up go stale and are ignored.
create unlogged table stream_counts (
  instance_id text not null,
  address text not null,
  streams integer not null,
  updated_at timestamptz not null default now(),
  primary key (instance_id, address)
);
create index stream_counts_address on stream_counts (address);

-- Moderators' bans: a claimed or unclaimed name (by its key, as names.key)
-- or a client address range. Changes are announced on plaza_bans
-- (db/channels.ts) so every instance re-reads its cached list at once.
create table bans (
  id bigint generated always as identity primary key,
  name_key text check (char_length(name_key) between 1 and 128),
  -- The name as the moderator wrote it (what lists show).
  name text check (char_length(name) between 1 and 32),
  -- An IP address or CIDR range, as server/config.ts parses TRUST_PROXY's.
  address text check (char_length(address) between 1 and 64),
  reason text check (char_length(reason) <= 500),
  created_at timestamptz not null default now(),
  -- Null: until lifted.
  expires_at timestamptz,
  check ((name_key is null) = (name is null)),
  check ((name_key is null) <> (address is null))
);

create function bans_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('plaza_bans', '');
  return null;
end;
$$;

create trigger bans_notify after insert or update or delete on bans
  for each statement execute function bans_notify();
