/**
 * Pictures waiting to be sent, kept in IndexedDB: the outbox (localStorage,
 * client/outbox.ts) holds only their keys and alt texts, so a picture sent
 * offline survives a reload or a closed tab and goes when the network is back.
 */

/** The IndexedDB database and object store the pictures live in. */
export const DB_NAME = "plaza-pictures";
const STORE = "pictures";
/** A picture no send refers to is removed after this long (another tab may be about to send it). */
export const ORPHAN_MS = 24 * 3600_000;

/** One stored picture: its bytes as they will be uploaded, and the server's id once uploaded. */
export interface StoredPicture {
  blob: Blob;
  /** When it was stored (epoch ms). */
  at: number;
  /** The id POST /attachments gave it: a retry posts again without uploading again. */
  id?: string;
}

let opened: Promise<IDBDatabase> | undefined;

function db(): Promise<IDBDatabase> {
  return opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => {
      // A later call may succeed (storage freed, private mode left).
      opened = undefined;
      reject(req.error);
    };
  });
}

// Runs one request in its own transaction and resolves with its result.
async function run<T>(
  mode: IDBTransactionMode,
  act: (store: IDBObjectStore) => IDBRequest,
): Promise<T> {
  const store = (await db()).transaction(STORE, mode).objectStore(STORE);
  return await new Promise<T>((resolve, reject) => {
    const req = act(store);
    req.onsuccess = () => resolve(req.result as T);
    req.onerror = () => reject(req.error);
  });
}

/** Stores a picture under a new random key and returns the key. */
export async function putPicture(blob: Blob): Promise<string> {
  const key = crypto.randomUUID();
  const value: StoredPicture = { blob, at: Date.now() };
  await run("readwrite", (s) => s.put(value, key));
  return key;
}

/** The stored picture under `key`, or undefined when it is gone. */
export function getPicture(key: string): Promise<StoredPicture | undefined> {
  return run("readonly", (s) => s.get(key));
}

/** Notes the server's id of an uploaded picture. */
export async function markUploaded(key: string, id: string): Promise<void> {
  const found = await getPicture(key);
  if (found) await run("readwrite", (s) => s.put({ ...found, id }, key));
}

/** Removes a picture (sent, or dropped from the composer). */
export async function deletePicture(key: string): Promise<void> {
  await run("readwrite", (s) => s.delete(key));
}

/** Removes stored pictures older than ORPHAN_MS whose keys are not in `keep`. */
export async function dropOrphans(keep: Set<string>): Promise<void> {
  const keys = await run<IDBValidKey[]>("readonly", (s) => s.getAllKeys());
  for (const key of keys) {
    if (typeof key !== "string" || keep.has(key)) continue;
    const found = await getPicture(key);
    if (!found || Date.now() - found.at > ORPHAN_MS) await deletePicture(key);
  }
}
