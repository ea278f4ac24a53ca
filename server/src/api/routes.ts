import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { SystemService } from "@ocore/proto/gen/ocore/api/v1/system_service_pb.js";

export interface ApiServices {
  readonly system: ServiceImpl<typeof SystemService>;
}

/** Registers every Connect service of the API; nothing else happens here. */
export function createApiRoutes(services: ApiServices): (router: ConnectRouter) => void {
  return (router) => {
    router.service(SystemService, services.system);
  };
}
