-- The two row triggers that 016 (pictures) and 020 (the bot mark) put on
-- every INSERT into messages run only for the rows they change: a WHEN
-- condition is checked by the executor without calling the PL/pgSQL
-- function, and most posts have no pictures and no verified name.
-- messages_take_attachments turns an empty list into null; a row without a
-- list needs nothing. messages_mark_bot's default (false) is what it would
-- set for a row without a claim.

select pg_advisory_xact_lock(7461626);

drop trigger messages_take_attachments on messages;
create trigger messages_take_attachments
  before insert on messages
  for each row when (new.attachments is not null)
  execute function messages_take_attachments();

drop trigger messages_mark_bot on messages;
create trigger messages_mark_bot
  before insert on messages
  for each row when (new.name_id is not null)
  execute function messages_mark_bot();
