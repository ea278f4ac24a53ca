import type { webcrypto } from "node:crypto";
import { isIP } from "node:net";
import { x509 } from "./x509.js";
import { ECDSA_SHA256, exportPrivateKeyPem, generateKeyPair, randomSerial, sha256 } from "./x509-keys.js";

/** A certificate and its private key as PEM (the key in the clear: seal it before storing). */
export interface CertificateWithKey {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly notAfter: Date;
}

/** A signer: the CA's certificate and its private key, ready to sign. */
export interface Issuer {
  readonly certificate: x509.X509Certificate;
  readonly signingKey: webcrypto.CryptoKey;
}

export interface IssuedCertificate {
  readonly certificatePem: string;
  readonly serial: string;
  /** Hex SHA-256 of the DER, the certificate's identity in agent_certificates. */
  readonly fingerprint: string;
  readonly notAfter: Date;
}

const CA_YEARS = 20;
const GATEWAY_DAYS = 397;
/** Tolerates hosts whose clocks run a little behind. */
const BACKDATE_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

export async function createCaCertificate(now: Date, installationId: string): Promise<CertificateWithKey> {
  const keys = await generateKeyPair();
  const notAfter = new Date(now.getTime() + CA_YEARS * 365 * DAY_MS);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=oCore agent CA ${installationId.slice(0, 8)}, O=oCore`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString("pem"),
    privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    notAfter,
  };
}

/** The gateway's TLS server certificate for the given host names and IP addresses. */
export async function createGatewayCertificate(
  issuer: Issuer,
  hostnames: readonly string[],
  now: Date,
): Promise<CertificateWithKey> {
  const keys = await generateKeyPair();
  const notAfter = new Date(now.getTime() + GATEWAY_DAYS * DAY_MS);
  const names = hostnames.map((name) => ({
    type: isIP(name) ? ("ip" as const) : ("dns" as const),
    value: name,
  }));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${hostnames[0] ?? "localhost"}, O=oCore agent gateway`,
    issuer: issuer.certificate.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: issuer.signingKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString("pem"),
    privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    notAfter,
  };
}

/** An agent's client certificate: subject CN = the server id, for the CSR's public key. */
export async function createClientCertificate(
  issuer: Issuer,
  request: {
    readonly publicKey: x509.PublicKey;
    readonly serverId: string;
    readonly days: number;
    readonly now: Date;
  },
): Promise<IssuedCertificate> {
  const serial = randomSerial();
  const notAfter = new Date(request.now.getTime() + request.days * DAY_MS);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=${request.serverId}, O=oCore agent`,
    issuer: issuer.certificate.subject,
    notBefore: new Date(request.now.getTime() - BACKDATE_MS),
    notAfter,
    publicKey: request.publicKey,
    signingKey: issuer.signingKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString("pem"),
    serial,
    fingerprint: sha256(certificate.rawData).toString("hex"),
    notAfter,
  };
}

/** Marks replica certificates (agent certificates say "oCore agent", the gateway's "oCore agent gateway"). */
export const REPLICA_ORGANIZATION = "oCore replica";

/**
 * A control-server replica's relay certificate, client and server at once: subject CN = the
 * replica id, O = REPLICA_ORGANIZATION. Issued in memory at each start from the installation's CA
 * (every replica can sign: the CA key is sealed in the shared database); never stored.
 */
export async function createReplicaCertificate(
  issuer: Issuer,
  request: { readonly replicaId: string; readonly days: number; readonly now: Date },
): Promise<CertificateWithKey> {
  const keys = await generateKeyPair();
  const notAfter = new Date(request.now.getTime() + request.days * DAY_MS);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${request.replicaId}, O=${REPLICA_ORGANIZATION}`,
    issuer: issuer.certificate.subject,
    notBefore: new Date(request.now.getTime() - BACKDATE_MS),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: issuer.signingKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString("pem"),
    privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    notAfter,
  };
}
