-- "Who's here": the names this instance's streams were opened under
-- (GET /stream?name=), one row per name per instance. An instance writes a
-- row when a name's first stream opens there and deletes it when the last
-- one closes. Rows count only while their instance's presence row is fresh,
-- so a crashed instance's names drop out with its stream count.
create table presence_names (
  instance_id text not null,
  name_key text not null,
  name text not null,
  primary key (instance_id, name_key)
);
-- The room's list is read by key across instances.
create index presence_names_key on presence_names (name_key);
