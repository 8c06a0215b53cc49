-- Link previews: a title, description and site name for the first http(s)
-- link of a message, fetched by the server after the post has committed
-- (server/previews/). A preview is a change of its own, numbered and
-- notified like a reaction, so live streams and resumed ones get it.

-- Taken first, as 005 did: no change is numbered half under the old rules.
select pg_advisory_xact_lock(7461626);

-- What was fetched for a URL, kept for PREVIEW_CACHE_MS (failures for
-- less) so a link posted again is not fetched again. Only the fetcher reads
-- it; messages keep their own copy (message_previews), so a refreshed
-- cache entry never changes a message without a change in the log.
create table link_previews (
  url text primary key check (char_length(url) <= 2048),
  status text not null check (status in ('ok', 'failed')),
  title text,
  description text,
  image_url text,
  site_name text,
  fetched_at timestamptz not null default now()
);

-- One row per message with a link: inserted (status 'pending') by the one
-- instance that claims the fetch, then set to 'ok' with the preview, or to
-- 'failed'. Gone with its message.
create table message_previews (
  message_id bigint primary key references messages (id) on delete cascade,
  url text not null check (char_length(url) <= 2048),
  status text not null default 'pending'
    check (status in ('pending', 'ok', 'failed')),
  title text check (char_length(title) <= 300),
  description text check (char_length(description) <= 500),
  image_url text check (char_length(image_url) <= 2048),
  site_name text check (char_length(site_name) <= 100),
  claimed_at timestamptz not null default now()
);

alter table changes drop constraint changes_kind_check;
alter table changes add constraint changes_kind_check
  check (kind in ('edit', 'delete', 'reaction', 'preview'));

-- A message's preview as protocol/message.ts's LinkPreview, or null while
-- there is none (none yet, none to be had, or no link).
create function preview_json(message_id bigint) returns json
language plpgsql stable as $$
declare
  result json;
begin
  select json_build_object(
      'url', p.url,
      'title', p.title,
      'description', p.description,
      'image', p.image_url,
      'site', p.site_name)
    into result
    from message_previews p
    where p.message_id = preview_json.message_id and p.status = 'ok';
  return result;
end;
$$;

-- 007's message_json with the preview added.
create or replace function message_json(m messages) returns json
language plpgsql stable as $$
declare
  reply json;
begin
  if m.reply_to is not null then
    -- Author and text are null once the message replied to is deleted.
    select json_build_object(
        'id', m.reply_to,
        'author', p.author,
        -- REPLY_QUOTE_LENGTH
        'text', case when char_length(p.text) > 100
          then left(p.text, 100) || '…' else p.text end)
      into reply
      from (select 1) one left join messages p on p.id = m.reply_to;
  end if;
  return json_build_object(
    'id', m.id,
    'author', m.author,
    'text', m.text,
    'createdAt', to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'clientId', m.client_id,
    'verified', m.name_id is not null,
    'editedAt', to_char(m.edited_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'replyTo', reply,
    'reactions', reactions_json(m.id),
    'preview', preview_json(m.id)
  );
end;
$$;

-- A preview shown, changed or taken back is a change; 'pending' to
-- 'failed' is not (nothing was shown). Rows removed with their message are
-- covered by its delete.
create function message_previews_log() returns trigger
language plpgsql as $$
declare
  seq bigint;
begin
  if tg_op = 'INSERT' and new.status <> 'ok' then
    return null;
  end if;
  if tg_op = 'UPDATE' and old.status <> 'ok' and new.status <> 'ok' then
    return null;
  end if;
  if tg_op = 'DELETE' and old.status <> 'ok' then
    return null;
  end if;
  if tg_op = 'DELETE' then
    if not exists (select 1 from messages where id = old.message_id) then
      return null;
    end if;
    seq := next_change_seq();
    insert into changes (seq, kind, message_id)
      values (seq, 'preview', old.message_id);
    perform notify_change(seq, 'preview', old.message_id, 'preview', null);
    return null;
  end if;
  seq := next_change_seq();
  insert into changes (seq, kind, message_id)
    values (seq, 'preview', new.message_id);
  perform notify_change(
    seq, 'preview', new.message_id, 'preview', preview_json(new.message_id));
  return null;
end;
$$;

create trigger message_previews_log
  after insert or update or delete on message_previews
  for each row execute function message_previews_log();
