-- Moderation. A deleted message leaves a tombstone, so clients that were
-- away when it went can be told on resume, and every instance hears of the
-- delete through NOTIFY, whoever deleted it (psql included).
create table deleted_messages (
  id bigint primary key,
  deleted_at timestamptz not null default now()
);

create function messages_notify_delete() returns trigger
language plpgsql as $$
begin
  insert into deleted_messages (id) values (old.id) on conflict do nothing;
  perform pg_notify('plaza_deletes', old.id::text);
  return null;
end;
$$;

create trigger messages_notify_delete
  after delete on messages
  for each row execute function messages_notify_delete();
