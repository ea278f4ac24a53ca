import { X509Certificate } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { agentCertificates } from "../../platform/db/schema/agent-identity.js";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AgentPki } from "../../platform/pki/agent-pki.js";
import { sha256 } from "../../platform/pki/x509-keys.js";

/** Who a connected agent is, decided by its client certificate alone. */
export interface AgentIdentity {
  readonly serverId: string;
  readonly serial: string;
  readonly notAfter: Date;
}

const REENROLL = "re-enroll the agent";

/**
 * Maps a presented client certificate (DER) to its server. The TLS layer has already verified
 * the chain; this checks again that our CA signed it, then that it is a certificate we issued,
 * not revoked, not expired, for a server that still exists, whose id is the subject CN.
 */
export async function authenticateAgent(
  db: Db,
  pki: AgentPki,
  input: { readonly certificateDer: Uint8Array | undefined; readonly now: Date },
): Promise<AgentIdentity> {
  const der = input.certificateDer;
  if (!der || !(await pki.isIssuedByCa(der))) {
    throw new AppError(
      "unauthenticated",
      "no valid client certificate: the agent must present the certificate this oCore server issued at enrollment (ocore-agent enroll)",
    );
  }
  const commonName = commonNameOf(der);
  const [row] = await db
    .select({
      serial: agentCertificates.serial,
      serverId: agentCertificates.serverId,
      notAfter: agentCertificates.notAfter,
      revokedAt: agentCertificates.revokedAt,
      status: servers.status,
    })
    .from(agentCertificates)
    .innerJoin(servers, eq(servers.id, agentCertificates.serverId))
    .where(eq(agentCertificates.fingerprint, sha256(der).toString("hex")));
  if (!row) throw new AppError("permission_denied", `certificate unknown to this server: ${REENROLL}`);
  if (row.revokedAt) throw new AppError("permission_denied", `certificate revoked: ${REENROLL}`);
  if (row.notAfter.getTime() <= input.now.getTime()) {
    throw new AppError(
      "unauthenticated",
      `certificate expired at ${row.notAfter.toISOString()}: ${REENROLL}`,
    );
  }
  if (commonName !== row.serverId) {
    throw new AppError("permission_denied", `certificate subject does not match its server: ${REENROLL}`);
  }
  if (row.status === "removing") {
    throw new AppError("permission_denied", "this server is being removed from oCore");
  }
  return { serverId: row.serverId, serial: row.serial, notAfter: row.notAfter };
}

/** The subject's CN (node:crypto's parser: this runs on every agent connection). */
function commonNameOf(der: Uint8Array): string | undefined {
  const subject = new X509Certificate(der).subject;
  return subject
    .split("\n")
    .find((part) => part.startsWith("CN="))
    ?.slice(3);
}
