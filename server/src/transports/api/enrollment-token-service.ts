import { durationMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { EnrollmentTokenService } from "@ocore/proto/gen/ocore/api/v1/enrollment_token_service_pb.js";
import { createEnrollmentToken } from "../../domain/agent-identity/create-enrollment-token.js";
import type { Db } from "../../platform/db/database.js";
import { auditContextOf } from "./request-context.js";

export interface EnrollmentTokenServiceDeps {
  readonly db: Db;
  /** The CA pin tokens carry (AgentPki.caPin). */
  readonly caPin: string;
  /** host:port agents dial (config.agent.publicAddress). */
  readonly gatewayAddress: string;
  readonly now: () => Date;
}

/** ocore.api.v1.EnrollmentTokenService: decode, call the domain, encode. */
export function createEnrollmentTokenService(
  deps: EnrollmentTokenServiceDeps,
): ServiceImpl<typeof EnrollmentTokenService> {
  return {
    async createEnrollmentToken(request, context) {
      const created = await createEnrollmentToken(deps.db, {
        serverId: request.serverId,
        caPin: deps.caPin,
        ttlMs: request.ttl ? durationMs(request.ttl) : undefined,
        now: deps.now(),
        audit: auditContextOf(context),
      });
      return {
        token: created.token,
        expiresAt: timestampFromDate(created.expiresAt),
        gatewayAddress: deps.gatewayAddress,
      };
    },
  };
}
