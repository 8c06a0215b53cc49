/**
 * Random room traffic for tests of the change log: posts (some replies),
 * edits, reactions and deletes through the API of several instances, and
 * some straight through SQL as any writer could. Refusals that races make
 * legitimate (a 404 for a message deleted meanwhile, a 400 for a reply to
 * one) are fine; with `tolerateOutage`, so are 503s and failed connections.
 */
import type postgres from "postgres";
import { REACTION_EMOJIS } from "../../protocol/reactions.ts";

/** A claimed name and its token. */
export interface Writer {
  name: string;
  token: string;
}

/** Options of runTraffic. */
export interface TrafficOptions {
  urls: string[];
  writers: Writer[];
  /** For the SQL writes; none when absent. */
  sql?: postgres.Sql;
  random: () => number;
  /** Operations per writer. */
  operations: number;
  tolerateOutage?: boolean;
}

const EXPECTED: Record<string, number[]> = {
  post: [201, 400],
  edit: [200, 404],
  react: [200, 404],
  delete: [204, 404],
};

/** Runs the writers at once; resolves when all are done; throws on an unexpected answer. */
export async function runTraffic(options: TrafficOptions): Promise<void> {
  const { urls, random } = options;
  const pick = <T>(list: readonly T[]): T =>
    list[Math.floor(random() * list.length)];
  // Ids posted so far (some deleted since): targets for the others.
  const posted: number[] = [];
  const mine = new Map<string, number[]>();

  const call = async (
    kind: keyof typeof EXPECTED,
    method: string,
    path: string,
    body: unknown,
    token?: string,
  ): Promise<unknown> => {
    for (;;) {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers["Content-Type"] = "application/json";
      if (token !== undefined) headers.Authorization = `Bearer ${token}`;
      let res: Response;
      try {
        res = await fetch(`${pick(urls)}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        if (!options.tolerateOutage) throw error;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const text = await res.text();
      if (res.status === 503 && options.tolerateOutage) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (!EXPECTED[kind].includes(res.status)) {
        throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
      }
      return res.status < 300 && text !== "" ? JSON.parse(text) : null;
    }
  };

  const sqlWrite = async (work: () => Promise<unknown>) => {
    for (;;) {
      try {
        await work();
        return;
      } catch (error) {
        // A reaction to a message deleted meanwhile: refused, as it should.
        if ((error as { code?: unknown }).code === "23503") return;
        if (!options.tolerateOutage) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  const step = async (writer: Writer) => {
    const own = mine.get(writer.name) ?? [];
    mine.set(writer.name, own);
    const roll = random();
    if (roll < 0.35 || posted.length === 0) {
      const verified = random() < 0.7;
      const replyTo = posted.length > 0 && random() < 0.3
        ? pick(posted)
        : undefined;
      const m = await call(
        "post",
        "POST",
        "/messages",
        {
          author: verified ? writer.name : `guest-${writer.name}`,
          text: `${writer.name} says ${Math.floor(random() * 1e6)}${
            random() < 0.1 ? " " + "long ".repeat(30) : ""
          }`,
          replyTo,
        },
        verified ? writer.token : undefined,
      ) as { id: number } | null;
      if (m !== null) {
        posted.push(m.id);
        if (verified) own.push(m.id);
      }
    } else if (roll < 0.55 && own.length > 0) {
      await call(
        "edit",
        "PATCH",
        `/messages/${pick(own)}`,
        { text: `edited ${Math.floor(random() * 1e6)}` },
        writer.token,
      );
    } else if (roll < 0.85) {
      await call(
        "react",
        "POST",
        `/messages/${pick(posted)}/reactions`,
        { emoji: pick(REACTION_EMOJIS) },
        writer.token,
      );
    } else if (roll < 0.92 && own.length > 0) {
      await call(
        "delete",
        "DELETE",
        `/messages/${pick(own)}`,
        undefined,
        writer.token,
      );
    } else if (options.sql) {
      // Any writer: psql edits, reacts and deletes too.
      const sql = options.sql;
      const id = pick(posted);
      const what = random();
      await sqlWrite(() =>
        what < 0.4
          ? sql`update messages set text = ${`psql ${what}`} where id = ${id}`
          : what < 0.8
          ? sql`insert into reactions (message_id, name_id, name, emoji)
                select ${id}, 999, 'psql', '😮'
                where exists (select 1 from messages where id = ${id})
                on conflict do nothing`
          : sql`delete from messages where id = ${id}`
      );
    }
  };

  await Promise.all(options.writers.map(async (writer) => {
    for (let i = 0; i < options.operations; i++) await step(writer);
  }));
}
