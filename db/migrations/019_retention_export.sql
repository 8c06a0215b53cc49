-- Retention, erasure and export (server/store/retention.ts, erase.ts,
-- export.ts). Nothing here changes how a message is stored or rendered.

-- Retention removes the oldest messages and export reads a date range, both
-- in (created_at, id) order; without this each would scan the whole table.
create index messages_created_at on messages (created_at, id);

-- "Erase everything I posted" finds a claim's messages and reactions.
create index messages_name_id on messages (name_id) where name_id is not null;
create index reactions_name_id on reactions (name_id);

-- Work that one instance does for all, now and then (retention): the row of
-- a job is leased by the instance running it, so a second instance does
-- nothing meanwhile, and `done_at` tells every instance when it last ran.
create table maintenance_leases (
  job text primary key check (char_length(job) between 1 and 64),
  holder text,
  held_until timestamptz not null default '-infinity',
  done_at timestamptz not null default '-infinity'
);
