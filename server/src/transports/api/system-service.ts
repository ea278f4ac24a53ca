import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { DatabaseKind, type SystemService } from "@ocore/proto/gen/ocore/api/v1/system_service_pb.js";
import type { SystemInfo } from "../../domain/system/system-info.js";

export interface SystemServiceDeps {
  getSystemInfo(): Promise<SystemInfo>;
}

/** ocore.api.v1.SystemService: decode, call the domain, encode. */
export function createSystemService(deps: SystemServiceDeps): ServiceImpl<typeof SystemService> {
  return {
    async getInfo() {
      const info = await deps.getSystemInfo();
      return {
        version: info.version,
        startedAt: timestampFromDate(info.startedAt),
        uptime: durationFromMs(info.uptimeMs),
        databaseKind: info.databaseKind === "postgres" ? DatabaseKind.POSTGRES : DatabaseKind.PGLITE,
        databaseVersion: info.databaseVersion,
        installationId: info.installationId,
        nodeVersion: info.nodeVersion,
        sshGateway: info.sshGateway,
      };
    },
  };
}
