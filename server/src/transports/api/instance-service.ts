import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { InstanceService } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import { scopeOf } from "../../domain/auth/principal.js";
import type { DockerCommandRunner } from "../../domain/docker/docker-commands.js";
import { createInstance } from "../../domain/instances/create-instance.js";
import { deleteInstance } from "../../domain/instances/delete-instance.js";
import { changeInstanceState } from "../../domain/instances/instance-actions.js";
import { type InstanceDeps, requireInstanceDeps } from "../../domain/instances/instance-deps.js";
import { listInstancePage } from "../../domain/instances/instance-page.js";
import { getInstance } from "../../domain/instances/instance-queries.js";
import type { InstanceRow } from "../../domain/instances/instance-view.js";
import { watchInstanceLogs } from "../../domain/instances/watch-instance-logs.js";
import { portsOfBlock } from "../../domain/ports/port-blocks.js";
import { auditContextOf, principalOf } from "./request-context.js";

export function instanceMessage(row: InstanceRow) {
  const ports = portsOfBlock(row.basePort);
  return {
    id: row.id,
    serverId: row.serverId,
    name: row.name,
    state: row.state,
    stateMessage: row.stateMessage,
    odooImage: row.odooImage,
    postgresImage: row.postgresImage,
    mailpitImage: row.mailpitImage,
    edition: row.edition,
    workers: row.workers,
    cpuMillis: row.cpuMillis,
    memoryBytes: BigInt(row.memoryBytes),
    environment: row.environment,
    webPort: ports.web,
    longpollingPort: ports.longpolling,
    mailpitPort: ports.mailpit,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

/** ocore.api.v1.InstanceService: decode, call one use case, encode (RBAC is in rpc-policies). */
export function createInstanceService(deps: {
  instances: InstanceDeps | undefined;
  commands: DockerCommandRunner;
}): ServiceImpl<typeof InstanceService> {
  const need = () => requireInstanceDeps(deps.instances);
  return {
    async createInstance(request, context) {
      const { instance, adminPassword } = await createInstance(need(), auditContextOf(context), request);
      return { instance: instanceMessage(instance), adminPassword };
    },
    async getInstance(request) {
      return { instance: instanceMessage(await getInstance(need(), request.id)) };
    },
    async listInstances(request, context) {
      const scope = scopeOf(principalOf(context), "instances.read");
      const page = await listInstancePage(need(), scope, {
        serverId: request.serverId || undefined,
        states: request.states,
        query: request.query,
        orderBy: request.orderBy,
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return {
        instances: page.rows.map(instanceMessage),
        nextPageToken: page.nextPageToken,
        totalSize: page.totalSize,
      };
    },
    async startInstance(request, context) {
      const row = await changeInstanceState(need(), auditContextOf(context), request.id, "start");
      return { instance: instanceMessage(row) };
    },
    async stopInstance(request, context) {
      const row = await changeInstanceState(need(), auditContextOf(context), request.id, "stop");
      return { instance: instanceMessage(row) };
    },
    async restartInstance(request, context) {
      const row = await changeInstanceState(need(), auditContextOf(context), request.id, "restart");
      return { instance: instanceMessage(row) };
    },
    async deleteInstance(request, context) {
      const row = await deleteInstance(need(), auditContextOf(context), request.id, {
        skipBackup: request.skipBackup,
      });
      return { instance: instanceMessage(row) };
    },
    async *watchLogs(request, context) {
      const chunks = watchInstanceLogs(
        need().db,
        deps.commands,
        auditContextOf(context),
        {
          id: request.id,
          container: request.container,
          tailLines: request.tailLines,
          follow: request.follow,
        },
        context.signal,
      );
      yield* chunks;
    },
  };
}
