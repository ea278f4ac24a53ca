import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { ConfigError } from "../platform/config/config-error.js";

export interface DataDirLock {
  release(): void;
}

/**
 * Makes sure the data directory exists and is writable, and takes its lock: two server
 * processes on one data directory would corrupt the embedded database.
 */
export function prepareDataDir(dir: string, options: { readonly embedded?: boolean } = {}): DataDirLock {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new ConfigError(
      "OCORE_DATA_DIR",
      `${dir} is not a writable directory (${code})`,
      "Choose a directory this user can write to, or fix its permissions.",
    );
  }
  const lockFile = path.join(dir, "server.lock");
  takeLock(lockFile, dir, options.embedded ?? true);
  return { release: () => rmSync(lockFile, { force: true }) };
}

function takeLock(lockFile: string, dir: string, embedded: boolean): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number.parseInt(readFileSync(lockFile, "utf8"), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new ConfigError(
          "OCORE_DATA_DIR",
          embedded
            ? `another oCore server (pid ${holder}) is using ${dir}; its embedded PGlite database is single-node`
            : `another oCore server (pid ${holder}) is using ${dir}`,
          embedded
            ? "Stop it first; to run several replicas, set DATABASE_URL to one PostgreSQL database and give each replica its own data directory."
            : "Stop it first, or give this replica its own data directory.",
        );
      }
      rmSync(lockFile, { force: true }); // left behind by a process that is gone
    }
  }
  throw new ConfigError("OCORE_DATA_DIR", `cannot take the lock ${lockFile}`, "Remove the file and retry.");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
