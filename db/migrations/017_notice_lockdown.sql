-- The room's pinned notice and lockdown (server/store/room_store.ts). One row
-- at most each, for the one room, set by a moderator through
-- /moderation/notice and /moderation/lockdown. Like slow_mode (008), a
-- change is announced on plaza_room (db/channels.ts): every instance re-reads
-- the room's settings and sends its streams a `room` event.

-- Each notice set takes the next number, never reused (not even after a
-- clear): a device that collapsed notice N shows notice N+1 again.
create sequence room_notice_version;

create table room_notice (
  room boolean primary key default true check (room),
  -- MAX_NOTICE_LENGTH (protocol/limits.ts); the app checks it first.
  text text not null check (char_length(text) between 1 and 1000),
  version bigint not null default nextval('room_notice_version'),
  set_at timestamptz not null default now()
);

create table lockdown (
  room boolean primary key default true check (room),
  -- 'all': nobody posts, reacts or types. 'newer': names claimed after
  -- `since` (and unclaimed names) don't; older claims do.
  scope text not null check (scope in ('all', 'newer')),
  since timestamptz,
  -- MAX_LOCKDOWN_REASON_LENGTH (protocol/limits.ts).
  reason text check (char_length(reason) between 1 and 200),
  set_at timestamptz not null default now(),
  check ((scope = 'newer') = (since is not null))
);

-- Per statement would do as well: both tables hold one row. Per row keeps
-- it like slow_mode's trigger.
create function room_settings_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('plaza_room', '');
  return null;
end;
$$;

create trigger room_notice_notify after insert or update or delete on room_notice
  for each row execute function room_settings_notify();
create trigger lockdown_notify after insert or update or delete on lockdown
  for each row execute function room_settings_notify();
