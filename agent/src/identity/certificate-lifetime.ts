import { createPrivateKey, X509Certificate } from "node:crypto";

/** What the agent needs to know about its client certificate. */
export interface CertificateInfo {
  readonly commonName: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export function readCertificateInfo(certificatePem: string): CertificateInfo {
  const certificate = new X509Certificate(certificatePem);
  return {
    commonName: /(?:^|\n)CN=([^\n]*)/.exec(certificate.subject)?.[1] ?? "",
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
  };
}

/** Renewal starts once less than a third of the certificate's lifetime is left. */
export function needsRenewal(info: CertificateInfo, nowMs: number): boolean {
  const lifetime = info.notAfter.getTime() - info.notBefore.getTime();
  return info.notAfter.getTime() - nowMs < lifetime / 3;
}

/** True when the certificate certifies this private key (a torn renewal can leave them apart). */
export function certificateMatchesKey(certificatePem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certificatePem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}
