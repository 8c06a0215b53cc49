-- Idempotent sends: a client names each message with a UUID, and a repeated
-- POST with the same clientId finds the original instead of storing twice.
alter table messages add column client_id uuid unique;

create or replace function message_json(m messages) returns json
language sql stable as $$
  select json_build_object(
    'id', m.id,
    'author', m.author,
    'text', m.text,
    'createdAt', to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'clientId', m.client_id
  )
$$;

-- "N online": each instance keeps its own count of open streams here; the
-- room's total is the sum over instances seen recently (a crashed instance
-- stops refreshing its row and drops out).
create table presence (
  instance_id text primary key,
  streams integer not null check (streams >= 0),
  updated_at timestamptz not null default now()
);
