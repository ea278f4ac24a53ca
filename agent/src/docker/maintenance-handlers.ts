import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  DockerContainerStatsResultSchema,
  DockerContainerStatsSchema,
  DockerPruneResultSchema,
  DockerPruneSchema,
} from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import type Docker from "dockerode";
import { CommandError, type CommandHandler, defineHandler } from "../commands/command-handler.js";
import { type DockerDeps, inspectContainer } from "./docker-deps.js";
import { engineCall } from "./docker-errors.js";
import { checkContainerRef, checkLabelSelectors } from "./docker-validation.js";

const u64 = (value: number | undefined): bigint => BigInt(Math.max(0, Math.trunc(value ?? 0)));

/** CPU since Docker's previous reading, in percent of one core (the `docker stats` formula). */
export function cpuPercentOf(stats: Docker.ContainerStats): number {
  const cpuDelta = stats.cpu_stats.cpu_usage.total_usage - (stats.precpu_stats.cpu_usage?.total_usage ?? 0);
  const systemDelta = (stats.cpu_stats.system_cpu_usage ?? 0) - (stats.precpu_stats.system_cpu_usage ?? 0);
  const cpus = stats.cpu_stats.online_cpus || stats.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  if (cpuDelta <= 0 || systemDelta <= 0) return 0;
  return (cpuDelta / systemDelta) * cpus * 100;
}

/** Memory in use without the page cache (cgroup v2: inactive_file, v1: total_inactive_file). */
export function memoryUsageOf(stats: Docker.ContainerStats): number {
  const memory = stats.memory_stats;
  const raw = memory.stats as unknown as Record<string, number | undefined> | undefined;
  const cache = raw?.inactive_file ?? raw?.total_inactive_file ?? 0;
  return Math.max(0, (memory.usage ?? 0) - cache);
}

export function maintenanceHandlers(deps: DockerDeps): CommandHandler[] {
  const { docker, socketPath } = deps;

  const stats = defineHandler({
    input: DockerContainerStatsSchema,
    output: DockerContainerStatsResultSchema,
    async run(spec, { signal }) {
      const ref = checkContainerRef(spec.container);
      const info = await inspectContainer(deps, ref, signal);
      if (!info.State.Running) {
        throw new CommandError(
          "conflict",
          `Container ${ref} is ${info.State.Status}, so it uses no resources to measure. Start it first.`,
        );
      }
      const sample = await engineCall(`container ${ref}`, socketPath, () =>
        docker.getContainer(info.Id).stats({ stream: false }),
      );
      let rx = 0;
      let tx = 0;
      for (const network of Object.values(sample.networks ?? {})) {
        rx += network.rx_bytes;
        tx += network.tx_bytes;
      }
      let read = 0;
      let written = 0;
      for (const entry of sample.blkio_stats?.io_service_bytes_recursive ?? []) {
        if (entry.op.toLowerCase() === "read") read += entry.value;
        if (entry.op.toLowerCase() === "write") written += entry.value;
      }
      return {
        id: info.Id,
        cpuPercent: cpuPercentOf(sample),
        memoryUsageBytes: u64(memoryUsageOf(sample)),
        memoryLimitBytes: u64(sample.memory_stats.limit),
        networkRxBytes: u64(rx),
        networkTxBytes: u64(tx),
        blockReadBytes: u64(read),
        blockWriteBytes: u64(written),
        pids: u64(sample.pids_stats?.current),
        readAt: timestampFromDate(new Date(sample.read)),
      };
    },
  });

  const prune = defineHandler({
    input: DockerPruneSchema,
    output: DockerPruneResultSchema,
    async run(spec, { signal }) {
      if (!spec.containers && !spec.images && !spec.volumes && !spec.networks) {
        throw new CommandError(
          "invalid_argument",
          "Nothing to prune: set at least one of containers, images, volumes or networks.",
        );
      }
      if (spec.allImages && !spec.images) {
        throw new CommandError("invalid_argument", "all_images only applies with images: set images too.");
      }
      const label = checkLabelSelectors(spec.labelSelectors);
      const filters: Record<string, string[]> = label.length ? { label } : {};
      const result = {
        containersDeleted: [] as string[],
        imagesDeleted: [] as string[],
        volumesDeleted: [] as string[],
        networksDeleted: [] as string[],
        spaceReclaimedBytes: 0n,
      };
      // Containers first: the images and volumes they held become unused.
      if (spec.containers) {
        const pruned = await engineCall("stopped containers", socketPath, () =>
          docker.pruneContainers({ filters, abortSignal: signal }),
        );
        result.containersDeleted = pruned.ContainersDeleted ?? [];
        result.spaceReclaimedBytes += u64(pruned.SpaceReclaimed);
      }
      if (spec.images) {
        const imageFilters = { ...filters, dangling: [spec.allImages ? "false" : "true"] };
        const pruned = await engineCall("unused images", socketPath, () =>
          docker.pruneImages({ filters: imageFilters, abortSignal: signal }),
        );
        result.imagesDeleted = (pruned.ImagesDeleted ?? []).map(
          (image) => image.Deleted || image.Untagged || "",
        );
        result.spaceReclaimedBytes += u64(pruned.SpaceReclaimed);
      }
      if (spec.volumes) {
        // Since Engine 23 only anonymous volumes are pruned unless all=true is asked for.
        const volumeFilters = { ...filters, all: ["true"] };
        const pruned = await engineCall("unused volumes", socketPath, () =>
          docker.pruneVolumes({ filters: volumeFilters, abortSignal: signal }),
        );
        result.volumesDeleted = pruned.VolumesDeleted ?? [];
        result.spaceReclaimedBytes += u64(pruned.SpaceReclaimed);
      }
      if (spec.networks) {
        const pruned = await engineCall("unused networks", socketPath, () =>
          docker.pruneNetworks({ filters, abortSignal: signal }),
        );
        result.networksDeleted = pruned.NetworksDeleted ?? [];
      }
      return result;
    },
  });

  return [stats, prune] as CommandHandler[];
}
