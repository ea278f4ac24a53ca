import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import {
  type EnrollRequest,
  type EnrollResponse,
  EnrollResponseSchema,
} from "@ocore/proto/gen/ocore/agent/v1/enrollment_service_pb.js";
import { enrollAgent } from "../../domain/agent-identity/enroll-agent.js";
import type { DenialAggregator } from "../../domain/audit/denial-aggregator.js";
import type { Db } from "../../platform/db/database.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { AgentPki } from "../../platform/pki/agent-pki.js";
import { endFromError, toServiceError } from "./grpc-status.js";
import { auditAgentRefusal } from "./refusal-audit.js";

export interface EnrollHandlerDeps {
  readonly db: Db;
  readonly pki: AgentPki;
  readonly logger: Logger;
  readonly certificateDays: number;
  readonly now: () => Date;
  /** Refused enrollments are audited here, aggregated per source address. */
  readonly refusals: DenialAggregator;
}

/** ocore.agent.v1.EnrollmentService/Enroll: decode, enroll, encode. */
export function createEnrollHandler(
  deps: EnrollHandlerDeps,
): grpc.handleUnaryCall<EnrollRequest, EnrollResponse> {
  return (call, callback) => {
    const { token, csrPem, hostname, agentVersion } = call.request;
    enrollAgent(deps.db, deps.pki, {
      token,
      csrPem,
      certificateDays: deps.certificateDays,
      now: deps.now(),
      peer: call.getPeer(),
      hostname,
      agentVersion,
    }).then(
      (enrollment) => {
        deps.logger.info(
          {
            serverId: enrollment.serverId,
            hostname: hostname.slice(0, 256),
            agentVersion: agentVersion.slice(0, 64),
          },
          "agent enrolled",
        );
        callback(
          null,
          create(EnrollResponseSchema, {
            serverId: enrollment.serverId,
            certificatePem: enrollment.certificatePem,
            caCertificatePem: enrollment.caCertificatePem,
            notAfter: timestampFromDate(enrollment.notAfter),
          }),
        );
      },
      (error: unknown) => {
        const end = endFromError(error);
        if (end.code === "internal") deps.logger.error({ err: error }, "enrollment failed");
        else deps.logger.info({ peer: call.getPeer(), reason: end.message }, "enrollment refused");
        const audited =
          end.code === "internal"
            ? Promise.resolve()
            : auditAgentRefusal(deps.refusals, {
                action: "agent.enroll",
                peer: call.getPeer(),
                reason: end.message,
                claimedName: hostname,
                agentVersion,
              });
        void audited.finally(() => callback(toServiceError(end)));
      },
    );
  };
}
