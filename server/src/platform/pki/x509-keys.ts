import { createHash, webcrypto } from "node:crypto";
import { x509 } from "./x509.js";

/** ECDSA P-256 with SHA-256: what the CA, the gateway and (by agreement) the agents use. */
export const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
export const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" } as const;

export async function generateKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ECDSA_P256, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
}

/** PKCS#8 PEM, the form Node's TLS accepts. */
export async function exportPrivateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

export async function importSigningKey(pem: string): Promise<webcrypto.CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return (await webcrypto.subtle.importKey("pkcs8", der, ECDSA_P256, false, ["sign"])) as webcrypto.CryptoKey;
}

/** A positive random 128-bit serial in hex (the top bit cleared so DER keeps it positive). */
export function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}

/** SHA-256 of DER bytes: certificate fingerprints and the CA pin. */
export function sha256(data: ArrayBuffer | Uint8Array): Buffer {
  return createHash("sha256").update(new Uint8Array(data)).digest();
}
