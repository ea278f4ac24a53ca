import { and, eq, gt, isNull } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { enrollmentTokens } from "../../platform/db/schema/agent-identity.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AgentPki } from "../../platform/pki/agent-pki.js";
import { parseCertificateRequest } from "../../platform/pki/csr.js";
import { recordAudit } from "../audit/record-audit.js";
import { parseEnrollmentToken } from "./enrollment-token.js";
import { issueAgentCertificate } from "./issue-agent-certificate.js";

export interface Enrollment {
  readonly serverId: string;
  readonly certificatePem: string;
  readonly caCertificatePem: string;
  readonly notAfter: Date;
}

const CREATE_NEW = "create a new token for this server and run the enrollment again";

/**
 * Exchanges a single-use token and a CSR for the agent's first client certificate. The CSR is
 * checked before the token is touched, and the token is consumed in the same transaction that
 * records the certificate: a failure never burns a token, and two racing uses cannot both win.
 */
export async function enrollAgent(
  db: Db,
  pki: AgentPki,
  input: {
    readonly token: string;
    readonly csrPem: string;
    readonly certificateDays: number;
    readonly now: Date;
    /** For the audit log: where the request came from and what the agent said it is. */
    readonly peer: string;
    readonly hostname: string;
    readonly agentVersion: string;
  },
): Promise<Enrollment> {
  const token = parseEnrollmentToken(input.token);
  if (!token) throw new AppError("unauthenticated", `the enrollment token is malformed: ${CREATE_NEW}`);
  if (token.caPin !== pki.caPin) {
    throw new AppError(
      "unauthenticated",
      "the enrollment token was issued by another oCore installation (its CA pin does not match this server)",
    );
  }
  const csr = await parseCertificateRequest(input.csrPem);

  return db.transaction(async (tx) => {
    const [consumed] = await tx
      .update(enrollmentTokens)
      .set({ usedAt: input.now })
      .where(
        and(
          eq(enrollmentTokens.secretHash, token.secretHash),
          isNull(enrollmentTokens.usedAt),
          gt(enrollmentTokens.expiresAt, input.now),
        ),
      )
      .returning({ serverId: enrollmentTokens.serverId });
    if (!consumed) throw await whyRefused(tx as unknown as Db, token.secretHash);
    const issued = await issueAgentCertificate(tx as unknown as Db, pki, {
      csr,
      serverId: consumed.serverId,
      days: input.certificateDays,
      now: input.now,
    });
    await recordAudit(
      tx,
      {
        actor: { type: "agent", id: consumed.serverId, name: input.hostname.slice(0, 256) },
        sourceIp: input.peer,
        userAgent: `ocore-agent/${input.agentVersion.slice(0, 64)}`,
      },
      {
        action: "agent.enroll",
        targetType: "server",
        targetId: consumed.serverId,
        after: { serial: issued.serial, notAfter: issued.notAfter },
      },
      input.now,
    );
    return {
      serverId: consumed.serverId,
      certificatePem: issued.certificatePem,
      caCertificatePem: pki.caCertificatePem,
      notAfter: issued.notAfter,
    };
  });
}

async function whyRefused(db: Db, secretHash: string): Promise<AppError> {
  const [row] = await db
    .select({ usedAt: enrollmentTokens.usedAt, expiresAt: enrollmentTokens.expiresAt })
    .from(enrollmentTokens)
    .where(eq(enrollmentTokens.secretHash, secretHash));
  if (!row)
    return new AppError("unauthenticated", `the enrollment token is not known to this server: ${CREATE_NEW}`);
  if (row.usedAt) {
    return new AppError(
      "unauthenticated",
      `the enrollment token was already used at ${row.usedAt.toISOString()}: ${CREATE_NEW}`,
    );
  }
  return new AppError(
    "unauthenticated",
    `the enrollment token expired at ${row.expiresAt.toISOString()}: ${CREATE_NEW}`,
  );
}
