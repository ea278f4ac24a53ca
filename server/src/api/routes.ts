import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { ApiTokenService } from "@ocore/proto/gen/ocore/api/v1/api_token_service_pb.js";
import { AuditService } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { EnrollmentTokenService } from "@ocore/proto/gen/ocore/api/v1/enrollment_token_service_pb.js";
import { MetricsService } from "@ocore/proto/gen/ocore/api/v1/metrics_service_pb.js";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { SystemService } from "@ocore/proto/gen/ocore/api/v1/system_service_pb.js";
import { UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";

export interface ApiServices {
  readonly system: ServiceImpl<typeof SystemService>;
  readonly auth: ServiceImpl<typeof AuthService>;
  readonly users: ServiceImpl<typeof UserService>;
  readonly apiTokens: ServiceImpl<typeof ApiTokenService>;
  readonly audit: ServiceImpl<typeof AuditService>;
  readonly servers: ServiceImpl<typeof ServerService>;
  readonly metrics: ServiceImpl<typeof MetricsService>;
  readonly enrollmentTokens: ServiceImpl<typeof EnrollmentTokenService>;
}

/** Registers every Connect service of the API; nothing else happens here. */
export function createApiRoutes(services: ApiServices): (router: ConnectRouter) => void {
  return (router) => {
    router.service(SystemService, services.system);
    router.service(AuthService, services.auth);
    router.service(UserService, services.users);
    router.service(ApiTokenService, services.apiTokens);
    router.service(AuditService, services.audit);
    router.service(ServerService, services.servers);
    router.service(MetricsService, services.metrics);
    router.service(EnrollmentTokenService, services.enrollmentTokens);
  };
}
