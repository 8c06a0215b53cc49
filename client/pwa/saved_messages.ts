/**
 * The latest messages, kept on this device in IndexedDB so that Plaza opened
 * offline (from the service worker's cache) shows what the reader last saw.
 */
import type { Message } from "../../protocol/message.ts";
import { isMessage } from "../message_shape.ts";

/** How many of the latest messages are kept for an offline start. */
export const SAVED_MESSAGES = 100;

const DB_NAME = "plaza";
const STORE = "saved";
const KEY = "latest";

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// One request in its own transaction, resolved once that has committed.
async function run<T>(
  mode: IDBTransactionMode,
  op: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = op(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** The messages last saved here, sorted by id; none when nothing was saved or storage is unavailable. */
export async function loadSavedMessages(): Promise<Message[]> {
  try {
    const value: unknown = await run("readonly", (s) => s.get(KEY));
    return Array.isArray(value)
      ? value.filter(isMessage).sort((a, b) => a.id - b.id)
      : [];
  } catch {
    // No IndexedDB (some private modes): start empty, as before.
    return [];
  }
}

/** Keeps the last SAVED_MESSAGES of a sorted list for the next offline start; a failure only loses that copy. */
export async function saveMessages(list: readonly Message[]): Promise<void> {
  try {
    await run("readwrite", (s) => s.put(list.slice(-SAVED_MESSAGES), KEY));
  } catch {
    // Full or blocked storage: the next start shows nothing saved.
  }
}
