-- Slow mode: while it is on, each name may post one message per `seconds`
-- (server/limits/slow_mode.ts). One row at most, for the one room: set by a
-- moderator (PUT /moderation/slow-mode) or by the traffic check every
-- instance runs (set_by 'auto'). Changes are announced on plaza_room
-- (db/channels.ts) so every instance re-reads it and tells its streams.
create table slow_mode (
  room boolean primary key default true check (room),
  -- 0: off, written by a moderator who turned slow mode off; until `until`
  -- the automatic switch leaves the room alone.
  seconds integer not null check (seconds between 0 and 3600),
  set_by text not null check (set_by in ('moderator', 'auto')),
  -- Null: until cleared (an automatic row: while the traffic stays high).
  until timestamptz,
  set_at timestamptz not null default now(),
  check (seconds > 0 or until is not null)
);

-- Per row, not per statement: each instance runs the automatic check every
-- few seconds as one upsert that usually changes nothing, and only a real
-- change should make every instance re-read the row.
create function slow_mode_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('plaza_room', '');
  return null;
end;
$$;

create trigger slow_mode_notify after insert or update or delete on slow_mode
  for each row execute function slow_mode_notify();
