import { performance } from "node:perf_hooks";
import { createEngineClient } from "../docker/engine-client.js";
import type { Logger } from "../logging/logger.js";
import { type ContainerUsageReader, createContainerUsageReader } from "./container-cgroup.js";

/** One container's usage since the previous call. */
export interface ContainerReading {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly cpuPercent: number;
  readonly memoryBytes: bigint;
  readonly memoryLimitBytes: bigint;
}

export interface DockerReading {
  readonly running: number;
  readonly paused: number;
  readonly stopped: number;
  readonly restarting: number;
  readonly containers: ContainerReading[];
}

export interface DockerCollector {
  /** undefined when Docker is not installed or does not answer. */
  collect(): Promise<DockerReading | undefined>;
}

/** The one Docker Engine call the collector makes, behind an interface the tests can hold. */
export interface DockerEngine {
  listContainers(): Promise<Array<{ id: string; name: string; state: string }>>;
}

/**
 * The real engine over its unix socket; a short timeout keeps a hung daemon from stalling samples.
 * A plain GET of the Engine API rather than dockerode: the collector runs every interval, and
 * dockerode (with its protobufjs and tar dependencies) stays out of the idle agent's memory.
 */
export function createDockerEngine(socketPath: string, timeoutMs = 3000): DockerEngine {
  const engine = createEngineClient(socketPath);
  return {
    async listContainers() {
      const containers = await engine.getJson<Array<{ Id: string; Names?: string[]; State: string }>>(
        "/containers/json?all=1",
        AbortSignal.timeout(timeoutMs),
      );
      return containers.map((container) => ({
        id: container.Id,
        name: (container.Names?.[0] ?? container.Id.slice(0, 12)).replace(/^\//, ""),
        state: container.State,
      }));
    },
  };
}

/**
 * Container counts by state from one `listContainers` call, and per running container CPU and
 * memory from its cgroup files. CPU is the share of one core since the previous call (the first
 * reading of a container is 0: a rate needs two). Docker going away or coming back is logged
 * once per change, not on every sample.
 */
export function createDockerCollector(options: {
  engine: DockerEngine;
  logger: Logger;
  usage?: ContainerUsageReader;
  sysRoot?: string;
  now?: () => number;
}): DockerCollector {
  const usage = options.usage ?? createContainerUsageReader({ sysRoot: options.sysRoot });
  const now = options.now ?? (() => performance.now());
  let available: boolean | undefined;
  let previous = new Map<string, { at: number; cpuNanos: number }>();

  return {
    async collect() {
      let containers: Awaited<ReturnType<DockerEngine["listContainers"]>>;
      try {
        containers = await options.engine.listContainers();
      } catch (error) {
        if (available !== false) {
          options.logger.warn(
            { err: error instanceof Error ? error.message : String(error) },
            "docker does not answer: samples carry no docker data until it does",
          );
        }
        available = false;
        previous = new Map();
        return undefined;
      }
      if (available === false) options.logger.info("docker answers again");
      available = true;

      const counts = { running: 0, paused: 0, stopped: 0, restarting: 0 };
      const readings: ContainerReading[] = [];
      const next = new Map<string, { at: number; cpuNanos: number }>();
      for (const container of containers) {
        if (container.state === "running") counts.running++;
        else if (container.state === "paused") counts.paused++;
        else if (container.state === "restarting") counts.restarting++;
        else if (["exited", "created", "dead"].includes(container.state)) counts.stopped++;
      }
      const running = containers.filter((container) => container.state === "running");
      const usages = await Promise.all(running.map((container) => usage.read(container.id)));
      const at = now();
      running.forEach((container, index) => {
        const current = usages[index];
        if (!current) return;
        const before = previous.get(container.id);
        next.set(container.id, { at, cpuNanos: current.cpuNanos });
        const elapsedNanos = before ? (at - before.at) * 1e6 : 0;
        readings.push({
          id: container.id,
          name: container.name,
          state: container.state,
          cpuPercent:
            before && elapsedNanos > 0 && current.cpuNanos >= before.cpuNanos
              ? ((current.cpuNanos - before.cpuNanos) / elapsedNanos) * 100
              : 0,
          memoryBytes: current.memoryBytes,
          memoryLimitBytes: current.memoryLimitBytes,
        });
      });
      previous = next;
      usage.retain(new Set(containers.map((container) => container.id)));
      return { ...counts, containers: readings };
    },
  };
}
