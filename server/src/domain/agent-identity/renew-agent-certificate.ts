import type { Db } from "../../platform/db/database.js";
import type { AgentPki } from "../../platform/pki/agent-pki.js";
import type { IssuedCertificate } from "../../platform/pki/certificates.js";
import { parseCertificateRequest } from "../../platform/pki/csr.js";
import type { AgentIdentity } from "./authenticate-agent.js";
import { issueAgentCertificate } from "./issue-agent-certificate.js";

/**
 * Issues a fresh certificate to an already authenticated agent, for the key in its new CSR.
 * The identity is the connection's (the CSR's subject is ignored); the old certificate stays
 * valid until it expires, so a lost answer never locks the agent out.
 */
export async function renewAgentCertificate(
  db: Db,
  pki: AgentPki,
  input: {
    readonly identity: AgentIdentity;
    readonly csrPem: string;
    readonly certificateDays: number;
    readonly now: Date;
  },
): Promise<IssuedCertificate> {
  const csr = await parseCertificateRequest(input.csrPem, "renew_certificate.csr_pem");
  return issueAgentCertificate(db, pki, {
    csr,
    serverId: input.identity.serverId,
    days: input.certificateDays,
    now: input.now,
  });
}
