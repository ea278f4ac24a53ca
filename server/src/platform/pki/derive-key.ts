import { hkdfSync } from "node:crypto";
import type { MasterKey } from "./master-key.js";

/** A 32-byte key for one purpose, derived from the master key (HKDF-SHA256), so purposes never share a key. */
export function deriveKey(master: MasterKey, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", master.key, Buffer.alloc(0), purpose, 32));
}
