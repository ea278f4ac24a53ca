import type { Db } from "../../platform/db/database.js";
import { agentCertificates } from "../../platform/db/schema/agent-identity.js";
import type { AgentPki } from "../../platform/pki/agent-pki.js";
import { createClientCertificate, type IssuedCertificate } from "../../platform/pki/certificates.js";
import type { x509 } from "../../platform/pki/x509.js";

/** Signs a client certificate for a server's agent and records it (so it can be revoked). */
export async function issueAgentCertificate(
  db: Db,
  pki: AgentPki,
  input: {
    readonly csr: x509.Pkcs10CertificateRequest;
    readonly serverId: string;
    readonly days: number;
    readonly now: Date;
  },
): Promise<IssuedCertificate> {
  const issued = await createClientCertificate(pki.issuer, {
    publicKey: input.csr.publicKey,
    serverId: input.serverId,
    days: input.days,
    now: input.now,
  });
  await db.insert(agentCertificates).values({
    serial: issued.serial,
    serverId: input.serverId,
    fingerprint: issued.fingerprint,
    notAfter: issued.notAfter,
    createdAt: input.now,
  });
  return issued;
}
