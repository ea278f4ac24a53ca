import { webcrypto } from "node:crypto";
import type * as X509 from "@peculiar/x509";
import { loadX509 } from "./x509-loader.js";

/** A freshly generated ECDSA P-256 key (PKCS#8 PEM) and a PKCS#10 request for it. */
export interface KeyAndCsr {
  readonly keyPem: string;
  readonly csrPem: string;
}

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/**
 * Generates the agent's key pair on the host (it never leaves it) and the CSR the server signs.
 * The server ignores the subject and puts the server id there; the common name only helps a
 * human reading the request.
 */
export async function generateKeyAndCsr(commonName: string): Promise<KeyAndCsr> {
  const x509 = await loadX509();
  const crypto = webcrypto as unknown as Parameters<typeof X509.Pkcs10CertificateRequestGenerator.create>[1];
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: [{ CN: [commonName.replace(/[^\w.-]/g, "-") || "ocore-agent"] }],
      keys,
      signingAlgorithm: algorithm,
    },
    crypto,
  );
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    csrPem: csr.toString("pem"),
  };
}
