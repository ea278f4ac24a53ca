import { createHash, timingSafeEqual, X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate } from "node:tls";
import tls from "node:tls";

/** base64url (no padding) of SHA-256 over the CA certificate's DER bytes, as in the token. */
export function computeCaPin(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("base64url");
}

export function caPinOfPem(pem: string): string {
  return computeCaPin(new X509Certificate(pem).raw);
}

/** Constant-time comparison of two pins (their length is public: always 43 characters). */
export function pinsEqual(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, "base64url");
  const b = Buffer.from(actual, "base64url");
  return a.length === 32 && a.length === b.length && timingSafeEqual(a, b);
}

function derToPem(der: Buffer): string {
  const base64 = der.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${base64.replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`;
}

/**
 * Opens a TLS connection WITHOUT verifying the server (we do not trust anything yet) only to read
 * the chain it presents, and returns the self-signed root at its end. The caller must compare its
 * pin with the token's before trusting it.
 */
export function fetchPresentedCa(
  host: string,
  port: number,
  timeoutMs = 10_000,
): Promise<{ pem: string; der: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
      rejectUnauthorized: false,
      ALPNProtocols: ["h2"],
    });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no TLS handshake with ${host}:${port} within ${timeoutMs / 1000} s`)),
    );
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      let certificate: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      socket.destroy();
      const seen = new Set<string>();
      while (certificate?.raw && !seen.has(certificate.fingerprint256)) {
        seen.add(certificate.fingerprint256);
        const issuer: DetailedPeerCertificate | undefined = certificate.issuerCertificate;
        // A self-signed root is its own issuer (Node links it to itself).
        if (!issuer?.raw || issuer.fingerprint256 === certificate.fingerprint256) break;
        certificate = issuer;
      }
      if (
        !certificate?.raw ||
        !new X509Certificate(certificate.raw).checkIssued(new X509Certificate(certificate.raw))
      ) {
        reject(new Error(`the server at ${host}:${port} did not present its CA certificate in its chain`));
        return;
      }
      resolve({ pem: derToPem(certificate.raw), der: certificate.raw });
    });
  });
}
