import { readFile } from "node:fs/promises";
import path from "node:path";

/** One container's cumulative CPU time and current memory, read from its cgroup files. */
export interface ContainerUsage {
  readonly cpuNanos: number;
  readonly memoryBytes: bigint;
  /** 0 when unlimited. */
  readonly memoryLimitBytes: bigint;
}

export interface ContainerUsageReader {
  read(containerId: string): Promise<ContainerUsage | undefined>;
  /** Forgets containers that no longer exist. */
  retain(liveIds: ReadonlySet<string>): void;
}

/** cgroup v1 writes a huge page-aligned number for "no limit"; anything this large is no limit. */
const unlimited = 1n << 62n;

const readText = (file: string) => readFile(file, "utf8").catch(() => undefined);

function statField(text: string | undefined, key: string): bigint {
  const match = text ? new RegExp(`^${key} (\\d+)$`, "m").exec(text) : null;
  return match?.[1] ? BigInt(match[1]) : 0n;
}

function limitOf(text: string | undefined): bigint {
  const value = text?.trim();
  if (!value || value === "max") return 0n;
  const limit = BigInt(value);
  return limit >= unlimited ? 0n : limit;
}

/** Memory in use the way `docker stats` counts it: usage minus reclaimable inactive file pages. */
function workingSet(usage: bigint, inactiveFile: bigint): bigint {
  return usage > inactiveFile ? usage - inactiveFile : usage;
}

async function readV2(dir: string): Promise<ContainerUsage | undefined> {
  const cpuStat = await readText(path.join(dir, "cpu.stat"));
  if (cpuStat === undefined) return undefined;
  const [current, max, memoryStat] = await Promise.all([
    readText(path.join(dir, "memory.current")),
    readText(path.join(dir, "memory.max")),
    readText(path.join(dir, "memory.stat")),
  ]);
  return {
    cpuNanos: Number(statField(cpuStat, "usage_usec")) * 1000,
    memoryBytes: workingSet(BigInt(current?.trim() || "0"), statField(memoryStat, "inactive_file")),
    memoryLimitBytes: limitOf(max),
  };
}

async function readV1(cpuDir: string, memoryDir: string): Promise<ContainerUsage | undefined> {
  const cpu = await readText(path.join(cpuDir, "cpuacct.usage"));
  if (cpu === undefined) return undefined;
  const [usage, limit, memoryStat] = await Promise.all([
    readText(path.join(memoryDir, "memory.usage_in_bytes")),
    readText(path.join(memoryDir, "memory.limit_in_bytes")),
    readText(path.join(memoryDir, "memory.stat")),
  ]);
  return {
    cpuNanos: Number(cpu.trim()),
    memoryBytes: workingSet(BigInt(usage?.trim() || "0"), statField(memoryStat, "total_inactive_file")),
    memoryLimitBytes: limitOf(limit),
  };
}

/**
 * Reads container usage from cgroup files (microseconds per container, where Docker's stats API
 * takes about two seconds each). Tries, in order: cgroup v2 with the systemd driver
 * (system.slice/docker-<id>.scope), v2 with the cgroupfs driver (docker/<id>), then the same two
 * layouts under the v1 cpuacct and memory hierarchies. The layout found is remembered per container.
 */
export function createContainerUsageReader(options: { sysRoot?: string } = {}): ContainerUsageReader {
  const cgroupRoot = path.join(options.sysRoot ?? "/sys", "fs", "cgroup");
  const layouts = new Map<string, () => Promise<ContainerUsage | undefined>>();

  function candidates(id: string): Array<() => Promise<ContainerUsage | undefined>> {
    const groups = [`system.slice/docker-${id}.scope`, `docker/${id}`];
    const v2 = groups.map((group) => () => readV2(path.join(cgroupRoot, group)));
    const v1 = ["cpuacct", "cpu,cpuacct"].flatMap((controller) =>
      groups.map(
        (group) => () =>
          readV1(path.join(cgroupRoot, controller, group), path.join(cgroupRoot, "memory", group)),
      ),
    );
    return [...v2, ...v1];
  }

  async function read(id: string): Promise<ContainerUsage | undefined> {
    const known = layouts.get(id);
    if (known) {
      const usage = await known();
      if (usage) return usage;
      layouts.delete(id);
    }
    for (const candidate of candidates(id)) {
      const usage = await candidate();
      if (usage) {
        layouts.set(id, candidate);
        return usage;
      }
    }
    return undefined;
  }

  return {
    read,
    retain(liveIds) {
      for (const id of layouts.keys()) if (!liveIds.has(id)) layouts.delete(id);
    },
  };
}
