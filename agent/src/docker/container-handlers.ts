import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  DockerContainerCreateResultSchema,
  DockerContainerCreateSchema,
  DockerContainerInspectResultSchema,
  DockerContainerInspectSchema,
  DockerContainerListResultSchema,
  DockerContainerListSchema,
  DockerContainerRemoveResultSchema,
  DockerContainerRemoveSchema,
  DockerContainerRestartSchema,
  DockerContainerStartSchema,
  DockerContainerStateSchema,
  DockerContainerStopSchema,
  DockerRestartPolicy,
} from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import type Docker from "dockerode";
import { CommandError, type CommandHandler, defineHandler } from "../commands/command-handler.js";
import { bareName, type DockerDeps, inspectContainer } from "./docker-deps.js";
import { engineCall } from "./docker-errors.js";
import {
  checkCommand,
  checkContainerName,
  checkContainerRef,
  checkCpuLimit,
  checkEnv,
  checkImageRef,
  checkLabelSelectors,
  checkLabels,
  checkMemoryLimit,
  checkMounts,
  checkNetwork,
  checkPorts,
  checkStopTimeout,
  checkUser,
  checkWorkingDir,
} from "./docker-validation.js";

const RESTART_POLICIES: Record<DockerRestartPolicy, string> = {
  [DockerRestartPolicy.UNSPECIFIED]: "no",
  [DockerRestartPolicy.NO]: "no",
  [DockerRestartPolicy.ALWAYS]: "always",
  [DockerRestartPolicy.UNLESS_STOPPED]: "unless-stopped",
  [DockerRestartPolicy.ON_FAILURE]: "on-failure",
};

function summaryOf(container: Docker.ContainerInfo) {
  return {
    id: container.Id,
    name: bareName(container.Names[0]),
    image: container.Image,
    imageId: container.ImageID,
    command: container.Command,
    createdAt: timestampFromMs(container.Created * 1000),
    state: container.State,
    status: container.Status,
    labels: container.Labels ?? {},
    ports: (container.Ports ?? []).map((port) => ({
      containerPort: port.PrivatePort,
      protocol: port.Type,
      hostIp: port.IP ?? "",
      hostPort: port.PublicPort ?? 0,
    })),
  };
}

function stateOf(info: Docker.ContainerInspectInfo) {
  return { id: info.Id, name: bareName(info.Name), state: info.State.Status, exitCode: info.State.ExitCode };
}

/** 304 "already started/stopped" is success for an operation that asks for a state. */
function isNotModified(error: unknown): boolean {
  return (error as { statusCode?: number } | null)?.statusCode === 304;
}

export function containerHandlers(deps: DockerDeps): CommandHandler[] {
  const { docker, socketPath } = deps;

  const list = defineHandler({
    input: DockerContainerListSchema,
    output: DockerContainerListResultSchema,
    async run(spec, { signal }) {
      const filters: Record<string, string[]> = {};
      const labels = checkLabelSelectors(spec.labelSelectors);
      if (labels.length) filters.label = labels;
      if (spec.namePrefix) filters.name = [checkContainerName(spec.namePrefix)];
      const containers = await engineCall("the container list", socketPath, () =>
        docker.listContainers({ all: spec.all, filters, abortSignal: signal }),
      );
      // Docker's name filter matches anywhere in the name: keep real prefixes only.
      const matching = spec.namePrefix
        ? containers.filter((container) =>
            container.Names.some((name) => bareName(name).startsWith(spec.namePrefix)),
          )
        : containers;
      return { containers: matching.map(summaryOf) };
    },
  });

  const inspect = defineHandler({
    input: DockerContainerInspectSchema,
    output: DockerContainerInspectResultSchema,
    async run(spec, { signal }) {
      const info = await inspectContainer(deps, checkContainerRef(spec.container), signal);
      return { ...stateOf(info), inspectJson: JSON.stringify(info) };
    },
  });

  const create = defineHandler({
    input: DockerContainerCreateSchema,
    output: DockerContainerCreateResultSchema,
    async run(spec, { signal }) {
      const name = checkContainerName(spec.name);
      const image = checkImageRef(spec.image);
      const ports = checkPorts(spec.ports);
      const options: Docker.ContainerCreateOptions = {
        name,
        Image: image,
        Cmd: checkCommand(spec.command, "command", false),
        Entrypoint: checkCommand(spec.entrypoint, "entrypoint", false),
        Env: checkEnv(spec.env),
        Labels: checkLabels(spec.labels),
        ExposedPorts: ports.exposed,
        WorkingDir: checkWorkingDir(spec.workingDir),
        User: checkUser(spec.user),
        HostConfig: {
          PortBindings: ports.bindings,
          Mounts: checkMounts(spec.mounts),
          NetworkMode: checkNetwork(spec.network),
          RestartPolicy: { Name: RESTART_POLICIES[spec.restartPolicy] ?? "no" },
          Memory: checkMemoryLimit(spec.memoryLimitBytes),
          NanoCpus: checkCpuLimit(spec.cpuLimitMillicores),
        },
      };
      await engineCall(`image ${image}`, socketPath, () => docker.getImage(image).inspect()).catch(
        (error) => {
          if (error instanceof CommandError && error.code === "not_found") {
            throw new CommandError(
              "not_found",
              `Image ${image} is not on this host, and creating a container does not pull it. Pull it first (DockerService/PullImage), then retry.`,
            );
          }
          throw error;
        },
      );
      const created = await engineCall(`container ${name}`, socketPath, () =>
        docker.createContainer({ ...options, abortSignal: signal }),
      );
      const info = await inspectContainer(deps, created.id, signal);
      return { id: info.Id };
    },
  });

  const start = defineHandler({
    input: DockerContainerStartSchema,
    output: DockerContainerStateSchema,
    async run(spec, { signal }) {
      const ref = checkContainerRef(spec.container);
      await engineCall(`container ${ref}`, socketPath, async () => {
        try {
          await docker.getContainer(ref).start({ abortSignal: signal });
        } catch (error) {
          if (!isNotModified(error)) throw error;
        }
      });
      return stateOf(await inspectContainer(deps, ref, signal));
    },
  });

  const stop = defineHandler({
    input: DockerContainerStopSchema,
    output: DockerContainerStateSchema,
    async run(spec, { signal }) {
      const ref = checkContainerRef(spec.container);
      const t = checkStopTimeout(spec.timeoutSeconds);
      await engineCall(`container ${ref}`, socketPath, async () => {
        try {
          await docker.getContainer(ref).stop({ t, abortSignal: signal });
        } catch (error) {
          if (!isNotModified(error)) throw error;
        }
      });
      return stateOf(await inspectContainer(deps, ref, signal));
    },
  });

  const restart = defineHandler({
    input: DockerContainerRestartSchema,
    output: DockerContainerStateSchema,
    async run(spec, { signal }) {
      const ref = checkContainerRef(spec.container);
      const t = checkStopTimeout(spec.timeoutSeconds);
      await engineCall(`container ${ref}`, socketPath, () =>
        docker.getContainer(ref).restart({ t, abortSignal: signal }),
      );
      return stateOf(await inspectContainer(deps, ref, signal));
    },
  });

  const remove = defineHandler({
    input: DockerContainerRemoveSchema,
    output: DockerContainerRemoveResultSchema,
    async run(spec, { signal }) {
      const ref = checkContainerRef(spec.container);
      const info = await inspectContainer(deps, ref, signal);
      await engineCall(`container ${ref}`, socketPath, () =>
        docker
          .getContainer(info.Id)
          .remove({ force: spec.force, v: spec.removeVolumes, abortSignal: signal }),
      );
      return { id: info.Id };
    },
  });

  return [list, inspect, create, start, stop, restart, remove] as CommandHandler[];
}
