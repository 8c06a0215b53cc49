import {
  DatabaseUnavailableError,
  isUnavailableError,
} from "../../db/database.ts";

/** The database refused a row the validator let through (a CHECK the two disagree on). */
export class MessageRejectedError extends Error {
  override name = "MessageRejectedError";
}

/**
 * A row names another that does not exist (SQLSTATE 23503): a reply to a
 * message that is not there, a reaction to one deleted meanwhile. The
 * message is the database's, which the triggers word for people.
 */
export class MissingReferenceError extends MessageRejectedError {
  override name = "MissingReferenceError";
}

/** Runs a query, turning connection failures into DatabaseUnavailableError and refused rows into MessageRejectedError. */
export async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUnavailableError(error)) throw new DatabaseUnavailableError(error);
    const code = (error as { code?: unknown }).code;
    if (code === "23503") {
      throw new MissingReferenceError((error as Error).message, {
        cause: error,
      });
    }
    // 23514 check_violation, 22xxx data exceptions (e.g. bad encoding).
    if (
      code === "23514" || (typeof code === "string" && code.startsWith("22"))
    ) {
      throw new MessageRejectedError(
        "The message was refused by the database's checks.",
        { cause: error },
      );
    }
    throw error;
  }
}
