import { readFile, statfs } from "node:fs/promises";
import path from "node:path";
import { parseMountinfo, selectRealMounts } from "../collectors/filesystem-collector.js";
import { type CheckResult, sentence } from "./check-result.js";

/** The part of `fs.statfs` the inode check reads (injectable for fixture tests). */
export type InodeStatFs = (mountPoint: string) => Promise<{ files: number; ffree: number }>;

const STATFS_TIMEOUT_MS = 2_000;

/**
 * Inodes in use per real filesystem (the mounts the metrics report), as a percentage. The agent
 * reports the value with state ok; the server judges it against its thresholds (per server tag).
 * Filesystems without a fixed inode table (btrfs, xfs report files = 0 or dynamic) are skipped.
 */
export async function checkInodes(
  options: { readonly procRoot?: string; readonly statfs?: InodeStatFs } = {},
): Promise<CheckResult[]> {
  const stat: InodeStatFs = options.statfs ?? ((mountPoint) => statfs(mountPoint));
  const mountinfo = await readFile(path.join(options.procRoot ?? "/proc", "self", "mountinfo"), "utf8");
  const mounts = selectRealMounts(parseMountinfo(mountinfo));
  const results = await Promise.all(
    mounts.map(async (mount): Promise<CheckResult | undefined> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(resolve, STATFS_TIMEOUT_MS, undefined);
      });
      const result = await Promise.race([stat(mount.mountPoint).catch(() => undefined), timeout]).finally(
        () => clearTimeout(timer),
      );
      if (!result || !(result.files > 0)) return undefined;
      const used = result.files - result.ffree;
      const percent = Math.round((10_000 * used) / result.files) / 100;
      return {
        key: "inodes",
        subject: mount.mountPoint,
        state: "ok",
        value: percent,
        message: sentence(`${used} of ${result.files} inodes in use on ${mount.mountPoint} (${percent}%)`),
      };
    }),
  );
  return results.filter((result) => result !== undefined).slice(0, 32);
}
