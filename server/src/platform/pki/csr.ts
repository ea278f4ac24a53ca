import { AppError } from "../errors/app-error.js";
import { x509 } from "./x509.js";

const MAX_CSR_PEM_LENGTH = 16 * 1024;
const ACCEPTED_CURVES = new Set(["P-256", "P-384"]);

/**
 * Parses and checks a PKCS#10 request: well-formed PEM, a self-signature that verifies (the
 * requester holds the private key), and an ECDSA P-256 or P-384 key. Its subject is ignored:
 * the certificate's identity is decided by the server.
 */
export async function parseCertificateRequest(
  pem: string,
  field = "csrPem",
): Promise<x509.Pkcs10CertificateRequest> {
  if (pem.length === 0 || pem.length > MAX_CSR_PEM_LENGTH) {
    throw AppError.invalid(field, "must be a PEM certificate request of at most 16 KiB");
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    throw AppError.invalid(field, "is not a PKCS#10 certificate request in PEM form");
  }
  const algorithm = csr.publicKey.algorithm as { name: string; namedCurve?: string };
  if (algorithm.name !== "ECDSA" || !ACCEPTED_CURVES.has(algorithm.namedCurve ?? "")) {
    throw AppError.invalid(field, "must be for an ECDSA P-256 or P-384 key");
  }
  let valid = false;
  try {
    valid = await csr.verify();
  } catch {
    valid = false;
  }
  if (!valid) throw AppError.invalid(field, "has a signature that does not verify");
  return csr;
}
