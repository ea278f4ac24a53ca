import {
  InstanceCreatedSchema,
  InstanceInspectedSchema,
  InstanceInspectSchema,
  InstanceRemovedSchema,
  InstanceRemoveSchema,
  InstanceRestartSchema,
  InstanceStartSchema,
  InstanceStopSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { defineHandler } from "../commands/command-handler.js";
import type { DockerDeps } from "../docker/docker-deps.js";
import { engineCall } from "../docker/docker-errors.js";
import { removeInstanceObjects } from "./instance-cleanup.js";
import { checkInstanceId, INSTANCE_ROLES, type InstanceRole } from "./instance-layout.js";
import { findInstanceContainers, getInstanceContainers, inspectInstance } from "./instance-status.js";

/** Seconds Docker waits after SIGTERM before it kills a container. */
const STOP_TIMEOUT_SECONDS = 20;

/** Docker answers 304 when a container already is in the asked state. */
const ignoreNotModified = (error: unknown): void => {
  if ((error as { statusCode?: number }).statusCode !== 304) throw error;
};

type Action = "start" | "stop" | "restart";

/** Runs `action` on each container in order (start: db, mail, odoo; stop: the reverse). */
async function apply(deps: DockerDeps, instanceId: string, action: Action, signal: AbortSignal) {
  const containers = await getInstanceContainers(deps, instanceId, signal);
  const order: InstanceRole[] = action === "stop" ? [...INSTANCE_ROLES].reverse() : [...INSTANCE_ROLES];
  for (const role of order) {
    const id = containers[role];
    if (!id) continue;
    const container = deps.docker.getContainer(id);
    await engineCall(`the ${role} container of instance ${instanceId}`, deps.socketPath, () => {
      if (action === "start") return container.start({ abortSignal: signal }).catch(ignoreNotModified);
      if (action === "stop")
        return container.stop({ t: STOP_TIMEOUT_SECONDS, abortSignal: signal }).catch(ignoreNotModified);
      return container.restart({ t: STOP_TIMEOUT_SECONDS, abortSignal: signal });
    });
  }
  return { status: await inspectInstance(deps, instanceId, containers, signal) };
}

export function instanceLifecycleHandlers(deps: DockerDeps) {
  const start = defineHandler({
    input: InstanceStartSchema,
    output: InstanceCreatedSchema,
    run: (spec, { signal }) => apply(deps, checkInstanceId(spec.instanceId), "start", signal),
  });
  const stop = defineHandler({
    input: InstanceStopSchema,
    output: InstanceCreatedSchema,
    run: (spec, { signal }) => apply(deps, checkInstanceId(spec.instanceId), "stop", signal),
  });
  const restart = defineHandler({
    input: InstanceRestartSchema,
    output: InstanceCreatedSchema,
    run: (spec, { signal }) => apply(deps, checkInstanceId(spec.instanceId), "restart", signal),
  });
  const remove = defineHandler({
    input: InstanceRemoveSchema,
    output: InstanceRemovedSchema,
    run: (spec, { signal }) =>
      removeInstanceObjects(deps, checkInstanceId(spec.instanceId), spec.name, signal),
  });
  const inspect = defineHandler({
    input: InstanceInspectSchema,
    output: InstanceInspectedSchema,
    async run(spec, { signal }) {
      const ids = spec.instanceIds.map(checkInstanceId);
      const found = await findInstanceContainers(deps, ids, signal);
      const instances = await Promise.all(
        [...found].map(([instanceId, containers]) => inspectInstance(deps, instanceId, containers, signal)),
      );
      return { instances };
    },
  });
  return [start, stop, restart, remove, inspect];
}
