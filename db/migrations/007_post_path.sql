-- The post path without needless work. First, message_json and
-- reactions_json again, in PL/pgSQL, with the same output.
--
-- As SQL functions with subqueries they cannot be inlined, and PostgreSQL
-- (before 18) plans a non-inlined SQL function's query again on every call
-- from a trigger: with 005's versions an INSERT of 16 messages took 6.7 ms
-- instead of 1.1 ms before 005, and posting fell from ~3,300 to ~1,000
-- messages/s (`deno task bench --only posting`, 2026-12-06). PL/pgSQL keeps
-- its plans for the session: 1.2 ms for the same INSERT. A message without
-- reactions (every new one) skips the aggregate.

create or replace function reactions_json(message_id bigint) returns json
language plpgsql stable as $$
declare
  result json;
begin
  if not exists (
    select 1 from reactions r where r.message_id = reactions_json.message_id
  ) then
    return '[]'::json;
  end if;
  select coalesce(json_agg(json_build_object(
      'emoji', g.emoji, 'count', g.n, 'names', to_json(g.names))
    order by array_position(
      array['👍', '❤️', '😂', '🎉', '😮', '😢'], g.emoji)), '[]'::json)
  into result
  from (
    select r.emoji, count(*)::int as n,
      (array_agg(r.name order by r.created_at, r.name_id))[1:50] as names
    from reactions r where r.message_id = reactions_json.message_id
    group by r.emoji
  ) g;
  return result;
end;
$$;

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
    'reactions', reactions_json(m.id)
  );
end;
$$;

-- Instances cache claims (server/store/claim_cache.ts) so that a post needs
-- no lookup; a claim made, moved or released anywhere tells them which key
-- to forget. A touch (last_used_at only) changes nothing they rely on.
create function names_notify() returns trigger
language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.key = old.key and new.name = old.name
    and new.token_hash = old.token_hash then
    return null;
  end if;
  if tg_op <> 'INSERT' then
    perform pg_notify('plaza_names', old.key);
  end if;
  if tg_op <> 'DELETE' and (tg_op = 'INSERT' or new.key <> old.key) then
    perform pg_notify('plaza_names', new.key);
  end if;
  return null;
end;
$$;

create trigger names_notify after insert or update or delete on names
  for each row execute function names_notify();
