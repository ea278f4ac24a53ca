import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type ContainerStatusSchema,
  type InstanceStatus,
  InstanceStatusSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import type Docker from "dockerode";
import { CommandError } from "../commands/command-handler.js";
import type { DockerDeps } from "../docker/docker-deps.js";
import { engineCall } from "../docker/docker-errors.js";
import { INSTANCE_LABEL, type InstanceRole, isInstanceRole, ROLE_LABEL } from "./instance-layout.js";

/** An instance's containers by role (Docker ids). */
export type InstanceContainers = Partial<Record<InstanceRole, string>>;

/** The containers labelled with the instance id; `ids` empty: every oCore instance on the host. */
export async function findInstanceContainers(
  deps: DockerDeps,
  ids: readonly string[],
  signal: AbortSignal,
): Promise<Map<string, InstanceContainers>> {
  const label = ids.length === 1 ? [`${INSTANCE_LABEL}=${ids[0]}`] : [INSTANCE_LABEL];
  const listed = await engineCall("the instance containers", deps.socketPath, () =>
    deps.docker.listContainers({ all: true, filters: JSON.stringify({ label }), abortSignal: signal }),
  );
  const wanted = new Set(ids);
  const found = new Map<string, InstanceContainers>();
  for (const container of listed) {
    const instanceId = container.Labels[INSTANCE_LABEL] ?? "";
    const role = container.Labels[ROLE_LABEL] ?? "";
    if ((wanted.size > 0 && !wanted.has(instanceId)) || !isInstanceRole(role)) continue;
    const entry = found.get(instanceId) ?? {};
    entry[role] = container.Id;
    found.set(instanceId, entry);
  }
  return found;
}

/** The containers of one instance; fails with not_found when it has none on this host. */
export async function getInstanceContainers(
  deps: DockerDeps,
  instanceId: string,
  signal: AbortSignal,
): Promise<InstanceContainers> {
  const containers = (await findInstanceContainers(deps, [instanceId], signal)).get(instanceId);
  if (!containers) {
    throw new CommandError(
      "not_found",
      `instance ${instanceId} has no containers on this host: it was removed outside oCore; delete it in oCore or restore a backup into a new instance`,
    );
  }
  return containers;
}

/** One container's state as the server reads it, from Docker's inspection (commands and the watch). */
export function containerStatus(
  role: InstanceRole,
  info: Docker.ContainerInspectInfo,
): MessageInitShape<typeof ContainerStatusSchema> {
  const time = (value: string) => {
    const at = new Date(value);
    return Number.isNaN(at.getTime()) || at.getFullYear() < 2000 ? undefined : timestampFromDate(at);
  };
  return {
    role,
    containerId: info.Id,
    state: info.State.Status,
    exitCode: info.State.ExitCode,
    oomKilled: info.State.OOMKilled,
    error: info.State.Error ?? "",
    startedAt: time(info.State.StartedAt),
    finishedAt: time(info.State.FinishedAt),
    restartCount: info.RestartCount ?? 0,
  };
}

/** Inspects each container of an instance (a container removed meanwhile is left out). */
export async function inspectInstance(
  deps: DockerDeps,
  instanceId: string,
  containers: InstanceContainers,
  signal: AbortSignal,
): Promise<InstanceStatus> {
  const statuses = await Promise.all(
    Object.entries(containers).map(async ([role, id]) => {
      try {
        const info = await deps.docker.getContainer(id).inspect({ abortSignal: signal });
        return containerStatus(role as InstanceRole, info);
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return undefined;
        throw error;
      }
    }),
  );
  return create(InstanceStatusSchema, {
    instanceId,
    containers: statuses.filter((status) => status !== undefined),
  });
}
