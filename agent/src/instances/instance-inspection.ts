import { create } from "@bufbuild/protobuf";
import {
  type InstanceStatus,
  InstanceStatusSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import type Docker from "dockerode";
import { type EngineClient, EngineStatusError, filtersQuery } from "../docker/engine-client.js";
import { INSTANCE_LABEL, type InstanceRole, isInstanceRole, ROLE_LABEL } from "./instance-layout.js";
import { containerStatus, type InstanceContainers } from "./instance-status.js";

/** Instances inspected at once (each is up to three container inspections). */
const INSPECT_CONCURRENCY = 8;

/** Every oCore container on the host, by instance and role (one list call). */
export async function listInstances(
  engine: EngineClient,
  signal: AbortSignal,
): Promise<Map<string, InstanceContainers>> {
  const query = filtersQuery({ label: [INSTANCE_LABEL] });
  const listed = await engine.getJson<Docker.ContainerInfo[]>(`/containers/json?all=1&${query}`, signal);
  const found = new Map<string, InstanceContainers>();
  for (const container of listed) {
    const instanceId = container.Labels?.[INSTANCE_LABEL] ?? "";
    const role = container.Labels?.[ROLE_LABEL] ?? "";
    if (!instanceId || !isInstanceRole(role)) continue;
    const entry = found.get(instanceId) ?? {};
    entry[role] = container.Id;
    found.set(instanceId, entry);
  }
  return found;
}

/** An instance's containers as Docker reports them now (one removed meanwhile is left out). */
async function inspectInstance(
  engine: EngineClient,
  signal: AbortSignal,
  instanceId: string,
  containers: InstanceContainers,
): Promise<InstanceStatus> {
  const statuses = await Promise.all(
    Object.entries(containers).map(async ([role, id]) => {
      try {
        const info = await engine.getJson<Docker.ContainerInspectInfo>(
          `/containers/${encodeURIComponent(id)}/json`,
          signal,
        );
        return containerStatus(role as InstanceRole, info);
      } catch (error) {
        if (error instanceof EngineStatusError && error.statusCode === 404) return undefined;
        throw error;
      }
    }),
  );
  return create(InstanceStatusSchema, {
    instanceId,
    containers: statuses.filter((status) => status !== undefined),
  });
}

/** The states of the instances `ids`, a few at a time. */
export async function inspectInstances(
  engine: EngineClient,
  signal: AbortSignal,
  containers: ReadonlyMap<string, InstanceContainers>,
  ids: readonly string[],
): Promise<InstanceStatus[]> {
  const statuses: InstanceStatus[] = [];
  for (let start = 0; start < ids.length; start += INSPECT_CONCURRENCY) {
    const slice = ids.slice(start, start + INSPECT_CONCURRENCY);
    statuses.push(
      ...(await Promise.all(
        slice.map((id) => inspectInstance(engine, signal, id, containers.get(id) ?? {})),
      )),
    );
  }
  return statuses;
}
