/**
 * The VAPID key pair that signs every push request. Push services bind a
 * subscription to the public key the browser was given, so all instances must
 * use one pair, for good: from the configuration, or else made once and kept
 * in the database.
 */
import { Buffer } from "node:buffer";
import { createECDH } from "node:crypto";
// @deno-types="@types/web-push"
import webpush from "web-push";
import { ConfigError } from "../config.ts";
import type { Queryable } from "../../db/database.ts";

/** A P-256 key pair, both halves base64url (public: 65-byte uncompressed point; private: 32 bytes). */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** Whether `privateKey` is the private half of `publicKey`. */
export function isVapidPair(keys: VapidKeys): boolean {
  try {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(Buffer.from(keys.privateKey, "base64url"));
    return ecdh.getPublicKey("base64url", "uncompressed") ===
      Buffer.from(keys.publicKey, "base64url").toString("base64url");
  } catch {
    return false;
  }
}

/**
 * The pair to sign with: the configured one (checked), or the one in the
 * database, made here if no instance has made it yet. Instances starting
 * together race on one insert; `on conflict do nothing` and a read after it
 * make every one of them end up with the winner's pair.
 */
export async function loadVapidKeys(
  db: Queryable,
  configured: VapidKeys | null,
): Promise<VapidKeys> {
  if (configured !== null) {
    if (!isVapidPair(configured)) {
      throw new ConfigError(
        "VAPID_PRIVATE_KEY is not the private key of VAPID_PUBLIC_KEY; set the two halves of one pair (made together by `deno run --allow-env npm:web-push@3.6.7 generate-vapid-keys`).",
      );
    }
    return configured;
  }
  const made = webpush.generateVAPIDKeys();
  await db.query(
    `insert into push_vapid_keys (public_key, private_key) values ($1, $2)
     on conflict (singleton) do nothing`,
    [made.publicKey, made.privateKey],
  );
  const [row] = await db.query<{ public_key: string; private_key: string }>(
    "select public_key, private_key from push_vapid_keys",
  );
  return { publicKey: row.public_key, privateKey: row.private_key };
}
