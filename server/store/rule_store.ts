/**
 * Moderators' word and link rules, the mutes they hand out and the messages
 * they hold (db/migrations/018). Every method may throw
 * DatabaseUnavailableError.
 */
import type { Database } from "../../db/database.ts";
import type { Message } from "../../protocol/message.ts";
import type { HeldMessage, Rule, RuleInput } from "../../protocol/rules.ts";
import { guard } from "./db_errors.ts";
import type { NewMessage } from "./message_store.ts";

/** Most held messages GET /moderation/held lists (the oldest first; approving or rejecting them shows the next). */
export const MAX_HELD_LISTED = 500;
/** Most held messages of one claim its streams are shown as they go live (the newest). */
export const MAX_HELD_SHOWN = 50;

/** A name a `mute` rule silenced. */
export interface Mute {
  key: string;
  name: string;
  /** Epoch ms. */
  until: number;
  reason: string | null;
}

/** A held message, its claim and what held it. */
export interface NewHeld extends NewMessage {
  ruleId: number;
  matched: string;
}

/** The tables behind rules, mutes and held messages. */
export interface RuleStore {
  /** Every rule, oldest first. */
  list(): Promise<Rule[]>;
  /** Adds a rule, or changes the action and reason of the one with the same pattern; says which. */
  add(input: RuleInput): Promise<{ rule: Rule; created: boolean }>;
  /** Removes a rule; false when there was none. */
  remove(id: number): Promise<boolean>;
  /** Mutes in force. */
  mutes(): Promise<Mute[]>;
  /** Silences name `key` (shown as `name`) for `minutes`. */
  mute(
    key: string,
    name: string,
    minutes: number,
    reason: string | null,
    ruleId: number,
  ): Promise<Mute>;
  /** Keeps a message back for a moderator; a clientId held already answers that one (created: false). */
  hold(input: NewHeld): Promise<{ message: Message; created: boolean }>;
  /** Held messages, oldest first (at most MAX_HELD_LISTED); with `nameId`, that claim's newest MAX_HELD_SHOWN. */
  held(nameId?: number): Promise<HeldMessage[]>;
  /** Held message `id` of claim `nameId`, as its author sees it, or null. */
  heldMessage(id: number, nameId: number): Promise<Message | null>;
  /** Posts a held message to the room (a new message, a new id); null when it is not held (any more). */
  approve(id: number): Promise<Message | null>;
  /** Drops a held message; false when it is not held (any more). */
  reject(id: number): Promise<boolean>;
}

type RuleRow = {
  id: number | string;
  kind: "word" | "domain";
  pattern: string;
  substring: boolean;
  action: Rule["action"];
  mute_minutes: number | null;
  reason: string | null;
  created_at: string;
};

const RULE_COLUMNS = `id, kind, pattern, substring, action, mute_minutes,
  reason, to_char(created_at at time zone 'UTC',
  'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at`;

function toRule(row: RuleRow): Rule {
  return {
    id: Number(row.id),
    kind: row.kind,
    pattern: row.pattern,
    substring: row.substring,
    action: row.action,
    muteMinutes: row.mute_minutes,
    reason: row.reason,
    createdAt: row.created_at,
  };
}

type MuteRow = {
  name_key: string;
  name: string;
  until_ms: number | string;
  reason: string | null;
};

const toMute = (row: MuteRow): Mute => ({
  key: row.name_key,
  name: row.name,
  until: Number(row.until_ms),
  reason: row.reason,
});

const MUTE_COLUMNS =
  "name_key, name, (extract(epoch from until) * 1000)::bigint as until_ms, reason";

// The columns a held row shares with messages: approving copies them.
const HELD_LISTED = `json_build_object(
  'message', held_json(h), 'ruleId', h.rule_id, 'matched', h.matched) as m`;

/** A RuleStore over `db`. */
export function createRuleStore(db: Database): RuleStore {
  return {
    list: () =>
      guard(async () =>
        (await db.query<RuleRow>(
          `select ${RULE_COLUMNS} from moderation_rules order by id`,
        )).map(toRule)
      ),
    add: (input) =>
      guard(async () => {
        // xmax = 0 only on a row this statement inserted.
        const [row] = await db.query<RuleRow & { inserted: boolean }>(
          `insert into moderation_rules
             (kind, pattern, substring, action, mute_minutes, reason)
           values ($1, $2, $3, $4, $5, $6)
           on conflict (kind, pattern, substring) do update set
             action = excluded.action,
             mute_minutes = excluded.mute_minutes,
             reason = excluded.reason
           returning ${RULE_COLUMNS}, (xmax = 0) as inserted`,
          [
            input.kind,
            input.pattern,
            input.substring,
            input.action,
            input.muteMinutes,
            input.reason,
          ],
        );
        return { rule: toRule(row), created: row.inserted };
      }),
    remove: (id) =>
      guard(async () =>
        (await db.query(
          "delete from moderation_rules where id = $1 returning id",
          [id],
        )).length > 0
      ),
    mutes: () =>
      guard(async () =>
        (await db.query<MuteRow>(
          `select ${MUTE_COLUMNS} from rule_mutes where until > now()`,
        )).map(toMute)
      ),
    mute: (key, name, minutes, reason, ruleId) =>
      guard(async () => {
        // Expired mutes go as new ones come: the table stays small.
        await db.query("delete from rule_mutes where until < now()");
        const [row] = await db.query<MuteRow>(
          `insert into rule_mutes (name_key, name, until, reason, rule_id)
           values ($1, $2, now() + make_interval(mins => $3), $4, $5)
           on conflict (name_key) do update set name = excluded.name,
             until = greatest(rule_mutes.until, excluded.until),
             reason = excluded.reason, rule_id = excluded.rule_id
           returning ${MUTE_COLUMNS}`,
          [key, name, minutes, reason, ruleId],
        );
        return toMute(row);
      }),
    hold: (input) =>
      guard(async () => {
        const params = [
          input.author,
          input.text,
          input.clientId ?? null,
          input.replyTo ?? null,
          input.nameId ?? null,
          input.ruleId,
          input.matched.slice(0, 200),
        ];
        const [row] = await db.query<{ m: Message }>(
          `insert into held_messages
             (author, text, client_id, reply_to, name_id, rule_id, matched)
           values ($1, $2, $3, $4, $5, $6, $7)
           on conflict (client_id) do nothing
           returning held_json(held_messages) as m`,
          params,
        );
        if (row !== undefined) return { message: row.m, created: true };
        const [again] = await db.query<{ m: Message }>(
          "select held_json(h) as m from held_messages h where client_id = $1",
          [input.clientId],
        );
        return { message: again.m, created: false };
      }),
    held: (nameId) =>
      guard(async () =>
        nameId === undefined
          ? (await db.query<{ m: HeldMessage }>(
            `select ${HELD_LISTED} from held_messages h
             order by id limit ${MAX_HELD_LISTED}`,
          )).map((r) => r.m)
          // The newest of one claim's, oldest first.
          : (await db.query<{ m: HeldMessage }>(
            `select ${HELD_LISTED} from held_messages h
             where name_id = $1 order by id desc limit ${MAX_HELD_SHOWN}`,
            [nameId],
          )).map((r) => r.m).reverse()
      ),
    heldMessage: (id, nameId) =>
      guard(async () => {
        const [row] = await db.query<{ m: Message }>(
          `select held_json(h) as m from held_messages h
           where id = $1 and name_id = $2`,
          [id, nameId],
        );
        return row?.m ?? null;
      }),
    approve: (id) =>
      guard(() =>
        db.transaction(async (tx) => {
          const [held] = await tx.query<{
            author: string;
            text: string;
            client_id: string | null;
            reply_to: number | string | null;
            name_id: number | string | null;
          }>(
            `delete from held_messages where id = $1
             returning author, text, client_id, reply_to, name_id`,
            [id],
          );
          if (held === undefined) return null;
          // A reply to a message deleted meanwhile is posted as no reply.
          const [row] = await tx.query<{ m: Message }>(
            `insert into messages (author, text, client_id, reply_to, name_id)
             select $1, $2, $3,
               (select id from messages where id = $4), $5
             on conflict (client_id) do nothing
             returning message_json_with(messages, '[]'::json, null) as m`,
            [
              held.author,
              held.text,
              held.client_id,
              held.reply_to,
              held.name_id,
            ],
          );
          if (row !== undefined) return row.m;
          // Its clientId was posted meanwhile (a retry once the rule was
          // gone): that message stands for it.
          const [posted] = await tx.query<{ m: Message }>(
            "select message_json(messages) as m from messages where client_id = $1",
            [held.client_id],
          );
          return posted?.m ?? null;
        })
      ),
    reject: (id) =>
      guard(async () =>
        (await db.query(
          "delete from held_messages where id = $1 returning id",
          [id],
        )).length > 0
      ),
  };
}
