import { X509Certificate as NativeX509Certificate } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { pkiCertificates } from "../db/schema/pki.js";
import type { Logger } from "../logging/logger.js";
import {
  type CertificateWithKey,
  createCaCertificate,
  createGatewayCertificate,
  type Issuer,
} from "./certificates.js";
import type { MasterKeyring } from "./master-key.js";
import { open, seal } from "./secret-box.js";
import { x509 } from "./x509.js";
import { importSigningKey, sha256 } from "./x509-keys.js";

/** The gateway's TLS identity; `certificateChainPem` is leaf + CA so agents can pin the CA. */
export type GatewayCertificate = CertificateWithKey & { readonly certificateChainPem: string };

/** Everything the agent channel needs from the PKI: loaded at start, the gateway part kept current. */
export interface AgentPki {
  readonly caCertificatePem: string;
  /** base64url SHA-256 of the CA certificate's DER: what enrollment tokens pin. */
  readonly caPin: string;
  /** The gateway's current TLS identity (replaced by refreshGatewayCertificate). */
  readonly gateway: GatewayCertificate;
  readonly issuer: Issuer;
  /** True when the DER certificate's signature verifies with the CA's key. */
  isIssuedByCa(der: Uint8Array): Promise<boolean>;
  /**
   * Reads the stored gateway certificate again and renews it when it expires within 30 days,
   * names other host names, or is not signed by the CA; adopts one another replica renewed.
   * Listeners hear of every change. Resolves to the current certificate.
   */
  refreshGatewayCertificate(): Promise<GatewayCertificate>;
  /** Calls `listener` with each new gateway certificate; returns a function that stops it. */
  onGatewayCertificate(listener: (certificate: GatewayCertificate) => void): () => void;
}

export interface EnsureAgentPkiOptions {
  readonly keyring: MasterKeyring;
  readonly hostnames: readonly string[];
  readonly installationId: string;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/** The row of pki_certificates that holds the agent CA, the first secret an installation seals. */
export const AGENT_CA = "agent-ca";
const GATEWAY = "agent-gateway";
/** The gateway certificate (397 days) is renewed this long before it expires. */
export const RENEW_GATEWAY_BEFORE_MS = 30 * 86_400_000;

/**
 * Loads the agent CA and the gateway certificate from the database, creating them on the first
 * start. Replicas starting together race harmlessly: the first insert wins and all use it.
 */
export async function ensureAgentPki(db: Db, options: EnsureAgentPkiOptions): Promise<AgentPki> {
  const now = options.now ?? (() => new Date());
  const { keyring, logger } = options;

  const ca = await loadOrCreate(db, keyring, AGENT_CA, "", () =>
    createCaCertificate(now(), options.installationId),
  );
  const caCertificate = new x509.X509Certificate(ca.certificatePem);
  // Checked on every agent connection: OpenSSL's parser and verifier (node:crypto) take ~0.5 ms
  // where @peculiar/x509's asn1js parse and WebCrypto verify took ~6 ms under load, the largest
  // per-handshake cost of a reconnect storm (bench/README.md, "Reconnect storm").
  const caPublicKey = new NativeX509Certificate(ca.certificatePem).publicKey;
  const issuer: Issuer = { certificate: caCertificate, signingKey: await importSigningKey(ca.privateKeyPem) };
  if (ca.created) logger.info({ subject: caCertificate.subject }, "created the agent certificate authority");
  if (ca.resealed) logger.info({ keyId: keyring.current.id }, "re-encrypted under the current master key");

  const sans = [...options.hostnames].sort().join(",");
  const makeGateway = () => createGatewayCertificate(issuer, options.hostnames, now());
  const chain = (leafPem: string) => `${leafPem.trim()}\n${ca.certificatePem.trim()}\n`;

  /** The stored gateway certificate, renewed first when it is stale (compare-and-set on the row). */
  const loadGateway = async (): Promise<GatewayCertificate> => {
    let gateway = await loadOrCreate(db, keyring, GATEWAY, sans, makeGateway);
    const stored = new x509.X509Certificate(gateway.certificatePem);
    const stale =
      gateway.subjectAltNames !== sans ||
      gateway.notAfter.getTime() - now().getTime() < RENEW_GATEWAY_BEFORE_MS ||
      !(await stored.verify({ publicKey: caCertificate.publicKey, signatureOnly: true }));
    if (stale) {
      const made = await makeGateway();
      await db
        .update(pkiCertificates)
        .set({
          certificatePem: made.certificatePem,
          sealedPrivateKey: seal(keyring, Buffer.from(made.privateKeyPem), GATEWAY),
          subjectAltNames: sans,
          notAfter: made.notAfter,
          updatedAt: now(),
        })
        .where(
          and(eq(pkiCertificates.name, GATEWAY), eq(pkiCertificates.certificatePem, gateway.certificatePem)),
        );
      gateway = await loadOrCreate(db, keyring, GATEWAY, sans, makeGateway);
      logger.info(
        { hostnames: options.hostnames, notAfter: gateway.notAfter },
        "issued a new agent gateway certificate",
      );
    }
    return {
      certificatePem: gateway.certificatePem,
      privateKeyPem: gateway.privateKeyPem,
      notAfter: gateway.notAfter,
      certificateChainPem: chain(gateway.certificatePem),
    };
  };

  let current = await loadGateway();
  const listeners = new Set<(certificate: GatewayCertificate) => void>();

  return {
    caCertificatePem: ca.certificatePem,
    caPin: sha256(caCertificate.rawData).toString("base64url"),
    get gateway() {
      return current;
    },
    issuer,
    async isIssuedByCa(der) {
      try {
        return new NativeX509Certificate(der).verify(caPublicKey);
      } catch {
        return false;
      }
    },
    async refreshGatewayCertificate() {
      const loaded = await loadGateway();
      if (loaded.certificatePem !== current.certificatePem) {
        current = loaded;
        for (const listener of listeners) listener(current);
      }
      return current;
    },
    onGatewayCertificate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

interface StoredCertificate extends CertificateWithKey {
  readonly subjectAltNames: string;
  readonly created: boolean;
  readonly resealed: boolean;
}

async function loadOrCreate(
  db: Db,
  keyring: MasterKeyring,
  name: string,
  subjectAltNames: string,
  create: () => Promise<CertificateWithKey>,
): Promise<StoredCertificate> {
  const select = () => db.select().from(pkiCertificates).where(eq(pkiCertificates.name, name));
  let [row] = await select();
  let created = false;
  if (!row) {
    const made = await create();
    const inserted = await db
      .insert(pkiCertificates)
      .values({
        name,
        certificatePem: made.certificatePem,
        sealedPrivateKey: seal(keyring, Buffer.from(made.privateKeyPem), name),
        subjectAltNames,
        notAfter: made.notAfter,
      })
      .onConflictDoNothing()
      .returning({ name: pkiCertificates.name });
    created = inserted.length > 0;
    [row] = await select();
    if (!row) throw new Error(`the ${name} row is missing right after it was created`);
  }
  const opened = open(keyring, row.sealedPrivateKey, name);
  if (opened.sealedWithPreviousKey) {
    await db
      .update(pkiCertificates)
      .set({ sealedPrivateKey: seal(keyring, opened.plaintext, name) })
      .where(and(eq(pkiCertificates.name, name), eq(pkiCertificates.sealedPrivateKey, row.sealedPrivateKey)));
  }
  return {
    certificatePem: row.certificatePem,
    privateKeyPem: opened.plaintext.toString(),
    notAfter: row.notAfter,
    subjectAltNames: row.subjectAltNames,
    created,
    resealed: opened.sealedWithPreviousKey,
  };
}
