import type { Readable } from "node:stream";
import {
  InstanceLogsEndedSchema,
  InstanceLogsSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { CommandError, defineHandler } from "../commands/command-handler.js";
import type { DockerDeps } from "../docker/docker-deps.js";
import { engineCall } from "../docker/docker-errors.js";
import { destroyOnAbort, pumpDockerStream } from "../docker/docker-streams.js";
import { checkInstanceId, isInstanceRole } from "./instance-layout.js";
import { getInstanceContainers } from "./instance-status.js";

const DEFAULT_TAIL = 100;
const MAX_TAIL = 10_000;

/** InstanceLogs: one container's log as stdout/stderr output; with follow, until cancelled. */
export function instanceLogsHandler(deps: DockerDeps) {
  return defineHandler({
    input: InstanceLogsSchema,
    output: InstanceLogsEndedSchema,
    async run(spec, context) {
      const instanceId = checkInstanceId(spec.instanceId);
      const role = spec.role || "odoo";
      if (!isInstanceRole(role)) {
        throw new CommandError(
          "invalid_argument",
          `role "${role}" is not a container of an instance: use odoo, db or mail`,
        );
      }
      if (spec.tailLines > MAX_TAIL) {
        throw new CommandError(
          "invalid_argument",
          `tail_lines ${spec.tailLines} is above ${MAX_TAIL}: ask for fewer lines`,
        );
      }
      const id = (await getInstanceContainers(deps, instanceId, context.signal))[role];
      if (!id)
        throw new CommandError("not_found", `instance ${instanceId} has no ${role} container on this host`);
      const container = deps.docker.getContainer(id);
      const options = {
        stdout: true,
        stderr: true,
        tail: spec.tailLines || DEFAULT_TAIL,
        abortSignal: context.signal,
      };
      const source = await engineCall(`the ${role} container's log`, deps.socketPath, async () =>
        spec.follow
          ? ((await container.logs({ ...options, follow: true })) as unknown as Readable)
          : toReadable(await container.logs({ ...options, follow: false })),
      );
      let bytes = 0n;
      const stopListening = destroyOnAbort(source, context.signal);
      try {
        await pumpDockerStream(source, false, async (stream, data) => {
          bytes += BigInt(data.length);
          await context.output(stream, data);
        });
      } catch (error) {
        if (!context.signal.aborted) throw error;
      } finally {
        stopListening();
      }
      return { bytes };
    },
  });
}

async function* once(buffer: Buffer): AsyncGenerator<Buffer> {
  yield buffer;
}

function toReadable(buffer: Buffer): Readable {
  return once(buffer) as unknown as Readable;
}
