import type * as grpc from "@grpc/grpc-js";
import { AgentService } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { BackupTransferService } from "@ocore/proto/gen/ocore/agent/v1/backup_transfer_service_pb.js";
import { EnrollmentService } from "@ocore/proto/gen/ocore/agent/v1/enrollment_service_pb.js";
import { AgentReleaseService } from "@ocore/proto/gen/ocore/agent/v1/release_service_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";

/** The services of the agent port, each as grpc-js handlers keyed by method (see createGrpcServiceDefinition). */
export interface AgentServices {
  readonly enrollment: grpc.UntypedServiceImplementation;
  readonly release: grpc.UntypedServiceImplementation;
  /** Served only when the server has a backup store. */
  readonly backupTransfer?: grpc.UntypedServiceImplementation;
  readonly agent: grpc.UntypedServiceImplementation;
}

/** Registers every service of the agent gateway on its grpc-js server; nothing else happens here. */
export function registerAgentRoutes(server: grpc.Server, services: AgentServices): void {
  server.addService(createGrpcServiceDefinition(EnrollmentService), services.enrollment);
  server.addService(createGrpcServiceDefinition(AgentReleaseService), services.release);
  if (services.backupTransfer) {
    server.addService(createGrpcServiceDefinition(BackupTransferService), services.backupTransfer);
  }
  server.addService(createGrpcServiceDefinition(AgentService), services.agent);
}
