/**
 * Runs the webhook queue (bot_queue.ts) on one instance: woken by new
 * messages (through the listener) and by timers set from the database's due
 * times, it records mentions of bots, POSTs them to the bots' webhooks
 * (webhook.ts), retries with backoff, and posts a bot's answer as the bot's
 * message through the message store, so it reaches every stream and the
 * change log like any post. Nothing here runs on a request's path.
 */
import { createHash } from "node:crypto";
import type { Database } from "../../db/database.ts";
import { validateMessageInput } from "../../protocol/message.ts";
import { describeError, type Logger, silentLogger } from "../observe/logger.ts";
import { createWorker, retryDelayMs } from "../push/dispatcher.ts";
import type { PreviewGuard } from "../previews/ssrf_guard.ts";
import {
  type MessageStore,
  MissingReferenceError,
} from "../store/message_store.ts";
import {
  claimBotDeliveries,
  type ClaimedBotDelivery,
  fanOutMentions,
  finishBotDelivery,
  nextBotDeliveryMs,
  retryBotDelivery,
} from "./bot_queue.ts";
import {
  postWebhook,
  RefusedUrlError,
  WEBHOOK_TIMEOUT_MS,
  type WebhookAnswer,
} from "./webhook.ts";

/** POSTs of one delivery before it is given up. */
export const WEBHOOK_MAX_ATTEMPTS = 5;
/** First retry delay; doubles with each attempt (2, 4, 8, 16 s). */
export const WEBHOOK_RETRY_MS = 2_000;
/** Look at the queue at least this often, even unwoken (lost wake-ups, other instances' expired leases). */
export const BOT_IDLE_MS = 30_000;
/** Messages per fan-out transaction, and deliveries per claim. */
export const BOT_BATCH_SIZE = 50;
/** How long a new message's wake-up waits, so a busy room runs one round for many messages. */
export const MESSAGE_WAKE_DELAY_MS = 100;
/** A lease outlasts a POST's timeout by this much. */
const LEASE_MARGIN_MS = 5_000;

/** What became of one POST (for logs and tests). */
export interface BotDeliveryOutcome {
  deliveryId: number;
  messageId: number;
  bot: string;
  attempts: number;
  /** delivered: 2xx; retry: will try again; failed: given up; refused: the SSRF guard said no; banned: the bot's name is banned, nothing was sent. */
  result: "delivered" | "retry" | "failed" | "refused" | "banned";
  /** The webhook's status, when it answered. */
  status: number | null;
  /** The id of the bot's answer posted in the room, if any. */
  replyId: number | null;
}

/** The bot queue's runner on one instance. */
export interface BotWorker {
  /** A new message: look at the queue within MESSAGE_WAKE_DELAY_MS. */
  wake(): void;
  /** Runs a round now and waits for it. */
  catchUp(): Promise<void>;
  /** Stops; in-flight POSTs finish first (each is bounded by its timeout). */
  close(): Promise<void>;
}

/** Dependencies and timings (tests shorten them). */
export interface BotWorkerOptions {
  db: Database;
  store: MessageStore;
  /** Where a webhook without allowLocal may be connected to. */
  guard: PreviewGuard;
  logger?: Logger;
  timeoutMs?: number;
  retryMs?: number;
  maxAttempts?: number;
  idleMs?: number;
  batchSize?: number;
  /** Whether a name is banned now (this instance's ban list): a banned bot is neither told of mentions nor lets its answers in. */
  banned?: (name: string) => boolean;
  /** Told each POST's outcome. */
  onOutcome?: (outcome: BotDeliveryOutcome) => void;
}

/** A UUID (v8, RFC 9562) fixed by the delivery: posting a bot's answer again after a crash finds the first (clientId is idempotent). */
export function replyClientId(botId: number, messageId: number): string {
  const hex = createHash("sha256").update(`plaza-bot:${botId}:${messageId}`)
    .digest("hex");
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${
    hex.slice(13, 16)
  }-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The JSON POSTed to a webhook for a mention. */
export function mentionPayload(delivery: ClaimedBotDelivery): string {
  // The message is already JSON (rendered by the database at fan-out).
  return `{"type":"mention","bot":${
    JSON.stringify(delivery.botName)
  },"deliveryId":${delivery.id},"message":${delivery.message}}`;
}

/** The answer's text and reply-to, when it is a 200 with JSON `{"text": …}`; null otherwise. */
export function answerOf(
  answer: WebhookAnswer,
): { text: string; replyTo: number | null } | null {
  if (answer.status !== 200) return null;
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(answer.contentType)) {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(answer.body);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { text, replyTo } = value as Record<string, unknown>;
  if (typeof text !== "string" || text.trim() === "") return null;
  return {
    text,
    replyTo: typeof replyTo === "number" && Number.isSafeInteger(replyTo)
      ? replyTo
      : null,
  };
}

/** Creates the worker; it runs once woken (or after idleMs). */
export function createBotWorker(options: BotWorkerOptions): BotWorker {
  const { db, store } = options;
  const logger = options.logger ?? silentLogger;
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const retryMs = options.retryMs ?? WEBHOOK_RETRY_MS;
  const maxAttempts = options.maxAttempts ?? WEBHOOK_MAX_ATTEMPTS;
  const batchSize = options.batchSize ?? BOT_BATCH_SIZE;

  /** Posts the bot's answer; returns its id, or null when it was refused. */
  const postAnswer = async (
    d: ClaimedBotDelivery,
    answer: { text: string; replyTo: number | null },
  ): Promise<number | null> => {
    const input = validateMessageInput({
      author: d.botName,
      text: answer.text,
      replyTo: answer.replyTo,
      clientId: replyClientId(d.botId, d.messageId),
    });
    if (!input.ok) {
      logger.warn("bot_answer_refused", {
        message: `Bot ${d.botName}'s answer was not posted: ${input.error}`,
      });
      return null;
    }
    const insert = (replyTo: number | null) =>
      store.insert({
        ...input.value,
        replyTo,
        author: d.botName,
        nameId: d.botId,
      });
    try {
      return (await insert(input.value.replyTo ?? null)).message.id;
    } catch (error) {
      // The message answered was deleted meanwhile: say it anyway.
      if (!(error instanceof MissingReferenceError)) throw error;
      return (await insert(null)).message.id;
    }
  };

  const deliver = async (d: ClaimedBotDelivery): Promise<void> => {
    const outcome = (
      result: BotDeliveryOutcome["result"],
      status: number | null,
      replyId: number | null = null,
    ) =>
      options.onOutcome?.({
        deliveryId: d.id,
        messageId: d.messageId,
        bot: d.botName,
        attempts: d.attempts,
        result,
        status,
        replyId,
      });
    if (d.webhook === null) {
      await finishBotDelivery(db, d.id);
      return;
    }
    // A banned name may not post, so a banned bot's answer would be
    // refused anyway; it is not told of the room either.
    if (options.banned?.(d.botName)) {
      await finishBotDelivery(db, d.id);
      outcome("banned", null);
      return;
    }
    let answer: WebhookAnswer;
    try {
      answer = await postWebhook({
        url: d.webhook,
        secret: d.secret,
        deliveryId: d.id,
        body: mentionPayload(d),
        allowLocal: d.allowLocal,
        guard: options.guard,
        timeoutMs,
      });
    } catch (error) {
      if (error instanceof RefusedUrlError) {
        logger.warn("bot_webhook_refused", {
          message:
            `Bot ${d.botName}'s webhook is not on a public address (${error.message}); register it with allowLocal if it runs on this host.`,
        });
        await finishBotDelivery(db, d.id);
        outcome("refused", null);
        return;
      }
      await retryOrFail(
        d,
        null,
        error instanceof Error ? error.message : String(error),
      );
      outcome(d.attempts < maxAttempts ? "retry" : "failed", null);
      return;
    }
    if (answer.status >= 200 && answer.status < 300) {
      const reply = answerOf(answer);
      // Posted before the delivery is finished: a crash in between POSTs
      // again, and the same clientId finds the answer already there. A ban
      // that came while the webhook was thinking holds too.
      const replyId = reply === null || options.banned?.(d.botName)
        ? null
        : await postAnswer(d, reply);
      await finishBotDelivery(db, d.id);
      outcome("delivered", answer.status, replyId);
      return;
    }
    if (answer.status === 429 || answer.status >= 500) {
      await retryOrFail(d, answer.status, `answered ${answer.status}`);
      outcome(
        d.attempts < maxAttempts ? "retry" : "failed",
        answer.status,
      );
      return;
    }
    // Redirects and other refusals: trying again would get the same.
    logger.warn("bot_webhook_failed", {
      message:
        `Bot ${d.botName}'s webhook answered ${answer.status}; not retried.`,
    });
    await finishBotDelivery(db, d.id);
    outcome("failed", answer.status);
  };

  const retryOrFail = async (
    d: ClaimedBotDelivery,
    status: number | null,
    why: string,
  ) => {
    if (d.attempts >= maxAttempts) {
      logger.warn("bot_webhook_failed", {
        message:
          `Bot ${d.botName}'s webhook failed ${d.attempts} times (${why}); given up on message ${d.messageId}.`,
        status,
      });
      await finishBotDelivery(db, d.id);
      return;
    }
    await retryBotDelivery(db, d, retryDelayMs(d.attempts, retryMs, null));
  };

  const step = async (): Promise<number | null> => {
    const consumed = await fanOutMentions(db, batchSize);
    const claimed = await claimBotDeliveries(
      db,
      batchSize,
      timeoutMs + LEASE_MARGIN_MS,
    );
    await Promise.all(
      claimed.map((d) =>
        deliver(d).catch((error) =>
          logger.error("bot_delivery_error", {
            message: `Could not finish a delivery to bot ${d.botName}`,
            error: describeError(error),
          })
        )
      ),
    );
    if (consumed === batchSize || claimed.length === batchSize) return 0;
    return await nextBotDeliveryMs(db);
  };

  const worker = createWorker(
    step,
    options.idleMs ?? BOT_IDLE_MS,
    (error) =>
      logger.error("bot_queue_error", {
        message: "Could not run the bot webhook queue",
        error: describeError(error),
      }),
  );
  return {
    wake: () => worker.wakeSoon(MESSAGE_WAKE_DELAY_MS),
    catchUp: () => worker.catchUp(),
    close: () => worker.close(),
  };
}
