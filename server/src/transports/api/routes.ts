import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { AgentReleaseService } from "@ocore/proto/gen/ocore/api/v1/agent_release_service_pb.js";
import { AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { ApiTokenService } from "@ocore/proto/gen/ocore/api/v1/api_token_service_pb.js";
import { AuditService } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { BackupService } from "@ocore/proto/gen/ocore/api/v1/backup_service_pb.js";
import { CommandService } from "@ocore/proto/gen/ocore/api/v1/command_service_pb.js";
import { DiagnosisService } from "@ocore/proto/gen/ocore/api/v1/diagnosis_service_pb.js";
import { DockerService } from "@ocore/proto/gen/ocore/api/v1/docker_service_pb.js";
import { EnrollmentTokenService } from "@ocore/proto/gen/ocore/api/v1/enrollment_token_service_pb.js";
import { FleetService } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { InstanceService } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import { JoinService } from "@ocore/proto/gen/ocore/api/v1/join_service_pb.js";
import { MetricsService } from "@ocore/proto/gen/ocore/api/v1/metrics_service_pb.js";
import { RunService } from "@ocore/proto/gen/ocore/api/v1/run_service_pb.js";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { SshKeyService } from "@ocore/proto/gen/ocore/api/v1/ssh_key_service_pb.js";
import { SshSessionService } from "@ocore/proto/gen/ocore/api/v1/ssh_session_service_pb.js";
import { SystemService } from "@ocore/proto/gen/ocore/api/v1/system_service_pb.js";
import { TemplateService } from "@ocore/proto/gen/ocore/api/v1/template_service_pb.js";
import { UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import { MAX_IMPORT_BYTES } from "../../domain/servers/server-import.js";

export interface ApiServices {
  readonly system: ServiceImpl<typeof SystemService>;
  readonly auth: ServiceImpl<typeof AuthService>;
  readonly users: ServiceImpl<typeof UserService>;
  readonly sshKeys: ServiceImpl<typeof SshKeyService>;
  readonly apiTokens: ServiceImpl<typeof ApiTokenService>;
  readonly audit: ServiceImpl<typeof AuditService>;
  readonly servers: ServiceImpl<typeof ServerService>;
  readonly metrics: ServiceImpl<typeof MetricsService>;
  readonly enrollmentTokens: ServiceImpl<typeof EnrollmentTokenService>;
  readonly joins: ServiceImpl<typeof JoinService>;
  readonly fleet: ServiceImpl<typeof FleetService>;
  readonly commands: ServiceImpl<typeof CommandService>;
  readonly agentRelease: ServiceImpl<typeof AgentReleaseService>;
  readonly docker: ServiceImpl<typeof DockerService>;
  readonly instances: ServiceImpl<typeof InstanceService>;
  readonly backups: ServiceImpl<typeof BackupService>;
  readonly alerts: ServiceImpl<typeof AlertService>;
  readonly templates: ServiceImpl<typeof TemplateService>;
  readonly runs: ServiceImpl<typeof RunService>;
  readonly sshSessions: ServiceImpl<typeof SshSessionService>;
  readonly diagnosis: ServiceImpl<typeof DiagnosisService>;
}

/**
 * The one RPC whose request is larger than the general limit: a file of up to MAX_IMPORT_BYTES
 * travels base64 in JSON (a third more), with room for the envelope.
 */
export const IMPORT_SERVERS_MAX_BYTES = Math.ceil((MAX_IMPORT_BYTES * 4) / 3) + 64 * 1024;

/**
 * Registers every Connect service of the API; nothing else happens here. Every RPC reads at
 * most the transport's general limit, ImportServers at least IMPORT_SERVERS_MAX_BYTES.
 */
export function createApiRoutes(
  services: ApiServices,
  limits: { readonly readMaxBytes?: number } = {},
): (router: ConnectRouter) => void {
  const importMaxBytes = Math.max(limits.readMaxBytes ?? 0, IMPORT_SERVERS_MAX_BYTES);
  return (router) => {
    router.service(SystemService, services.system);
    router.service(AuthService, services.auth);
    router.service(UserService, services.users);
    router.service(SshKeyService, services.sshKeys);
    router.service(ApiTokenService, services.apiTokens);
    router.service(AuditService, services.audit);
    router.service(ServerService, services.servers);
    // Registered again with its own limit: a later registration of a path replaces the first.
    router.rpc(ServerService.method.importServers, services.servers.importServers, {
      readMaxBytes: importMaxBytes,
    });
    router.service(MetricsService, services.metrics);
    router.service(EnrollmentTokenService, services.enrollmentTokens);
    router.service(JoinService, services.joins);
    router.service(FleetService, services.fleet);
    router.service(CommandService, services.commands);
    router.service(AgentReleaseService, services.agentRelease);
    router.service(DockerService, services.docker);
    router.service(DiagnosisService, services.diagnosis);
    router.service(InstanceService, services.instances);
    router.service(BackupService, services.backups);
    router.service(AlertService, services.alerts);
    router.service(TemplateService, services.templates);
    router.service(RunService, services.runs);
    router.service(SshSessionService, services.sshSessions);
  };
}
