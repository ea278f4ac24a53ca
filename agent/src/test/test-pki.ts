import { randomBytes, webcrypto } from "node:crypto";
import type * as X509 from "@peculiar/x509";
import { loadX509 } from "../identity/x509-loader.js";

/** A throwaway certificate authority for tests, built like the server's (ECDSA P-256). */
export interface TestCa {
  readonly certificatePem: string;
  readonly keys: webcrypto.CryptoKeyPair;
  readonly certificate: X509.X509Certificate;
}

const crypto = webcrypto as unknown as Parameters<typeof X509.X509CertificateGenerator.create>[1];
const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const day = 86_400_000;
const serial = () =>
  randomBytes(8)
    .toString("hex")
    .replace(/^[89a-f]/, "1");

const generateKeys = async () =>
  (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;

const keyPem = async (keys: webcrypto.CryptoKeyPair) =>
  (await loadX509()).PemConverter.encode(
    await webcrypto.subtle.exportKey("pkcs8", keys.privateKey),
    "PRIVATE KEY",
  );

export async function createTestCa(name = "oCore test CA"): Promise<TestCa> {
  const x509 = await loadX509();
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: `CN=${name}`,
      notBefore: new Date(Date.now() - day),
      notAfter: new Date(Date.now() + 365 * day),
      keys,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certificatePem: `${certificate.toString("pem")}\n`, keys, certificate };
}

/** A TLS server certificate for localhost / 127.0.0.1, signed by `ca`. */
export async function issueServerCertificate(
  ca: TestCa,
): Promise<{ keyPem: string; certificatePem: string }> {
  const x509 = await loadX509();
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: "CN=localhost",
      issuer: ca.certificate.subject,
      notBefore: new Date(Date.now() - day),
      notAfter: new Date(Date.now() + 30 * day),
      publicKey: keys.publicKey,
      signingKey: ca.keys.privateKey,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: "dns", value: "localhost" },
          { type: "ip", value: "127.0.0.1" },
        ]),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { keyPem: await keyPem(keys), certificatePem: `${certificate.toString("pem")}\n` };
}

/** Signs an agent's CSR as the server does: subject CN = the server id, client auth only. */
export async function signClientCsr(
  ca: TestCa,
  csrPem: string,
  options: { serverId: string; notBefore?: Date; notAfter?: Date },
): Promise<string> {
  const x509 = await loadX509();
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  if (!(await csr.verify(crypto))) throw new Error("CSR signature does not verify");
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: `CN=${options.serverId}`,
      issuer: ca.certificate.subject,
      notBefore: options.notBefore ?? new Date(Date.now() - 60_000),
      notAfter: options.notAfter ?? new Date(Date.now() + 30 * day),
      publicKey: csr.publicKey,
      signingKey: ca.keys.privateKey,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return `${certificate.toString("pem")}\n`;
}
