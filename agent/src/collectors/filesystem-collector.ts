import { readFile, statfs } from "node:fs/promises";
import path from "node:path";

/** Space on one real mounted filesystem. */
export interface FilesystemReading {
  readonly mount: string;
  readonly device: string;
  readonly fsType: string;
  readonly totalBytes: bigint;
  readonly usedBytes: bigint;
  readonly availableBytes: bigint;
}

export interface FilesystemCollector {
  collect(): Promise<FilesystemReading[]>;
}

/** The subset of `fs.statfs` results the collector needs (injectable for fixture tests). */
export type StatFs = (
  mountPoint: string,
) => Promise<{ bsize: number; blocks: number; bfree: number; bavail: number }>;

/** Kernel and container plumbing that is not user storage. */
const pseudoTypes = new Set([
  "overlay",
  "aufs",
  "tmpfs",
  "ramfs",
  "proc",
  "sysfs",
  "devtmpfs",
  "devpts",
  "squashfs",
  "nsfs",
  "autofs",
  "mqueue",
  "hugetlbfs",
  "debugfs",
  "tracefs",
  "securityfs",
  "pstore",
  "bpf",
  "configfs",
  "fusectl",
  "binfmt_misc",
  "rpc_pipefs",
  "efivarfs",
  "selinuxfs",
  "nfsd",
  "fuse.lxcfs",
  "fuse.gvfsd-fuse",
  "fuse.portal",
  "fuse.snapfuse",
]);

export interface MountEntry {
  readonly deviceNumber: string;
  readonly root: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Parses /proc/self/mountinfo (see proc(5)). */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const separator = line.indexOf(" - ");
    if (separator < 0) continue;
    const left = line.slice(0, separator).split(" ");
    const [fsType = "", source = ""] = line
      .slice(separator + 3)
      .split(" ")
      .map(unescapeOctal);
    entries.push({
      deviceNumber: left[2] ?? "",
      root: unescapeOctal(left[3] ?? ""),
      mountPoint: unescapeOctal(left[4] ?? ""),
      fsType,
      source,
    });
  }
  return entries;
}

/**
 * The mounts worth reporting: real filesystems only, each device once (bind mounts and
 * subvolume mounts of the same device repeat its numbers; the shortest mount point wins).
 */
export function selectRealMounts(entries: readonly MountEntry[]): MountEntry[] {
  const byDevice = new Map<string, MountEntry>();
  for (const entry of entries) {
    if (pseudoTypes.has(entry.fsType) || entry.fsType.startsWith("cgroup")) continue;
    if (/^\/(proc|sys|dev)(\/|$)/.test(entry.mountPoint)) continue;
    const seen = byDevice.get(entry.deviceNumber);
    if (!seen || entry.mountPoint.length < seen.mountPoint.length) byDevice.set(entry.deviceNumber, entry);
  }
  return [...byDevice.values()];
}

export function createFilesystemCollector(
  options: { procRoot?: string; statfs?: StatFs; timeoutMs?: number } = {},
): FilesystemCollector {
  const file = path.join(options.procRoot ?? "/proc", "self", "mountinfo");
  const stat: StatFs = options.statfs ?? ((mountPoint) => statfs(mountPoint));
  const timeoutMs = options.timeoutMs ?? 2000;
  // A statfs on a dead network mount blocks a libuv thread until the server returns. Such a mount
  // is skipped while its call is outstanding, so it can tie up one thread, never the whole pool.
  const outstanding = new Set<string>();
  const statWithin = (mountPoint: string) => {
    if (outstanding.has(mountPoint)) return Promise.resolve(undefined);
    outstanding.add(mountPoint);
    const call = stat(mountPoint).finally(() => outstanding.delete(mountPoint));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, undefined);
    });
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  };
  return {
    async collect() {
      const mounts = selectRealMounts(parseMountinfo(await readFile(file, "utf8")));
      const readings = await Promise.all(
        mounts.map(async (mount): Promise<FilesystemReading | undefined> => {
          // A mount that vanished or hangs must not fail or stall the whole sample.
          const result = await statWithin(mount.mountPoint).catch(() => undefined);
          if (!result || result.blocks === 0) return undefined;
          const blockSize = BigInt(result.bsize);
          const total = BigInt(result.blocks) * blockSize;
          return {
            mount: mount.mountPoint,
            device: mount.source,
            fsType: mount.fsType,
            totalBytes: total,
            usedBytes: total - BigInt(result.bfree) * blockSize,
            availableBytes: BigInt(result.bavail) * blockSize,
          };
        }),
      );
      return readings.filter((reading) => reading !== undefined);
    },
  };
}
