import { access, constants, rename } from "node:fs/promises";
import { isSea } from "node:sea";
import type { Logger } from "../logging/logger.js";
import { executablePaths } from "./install-layout.js";
import { readUpgradeMarker, removeUpgradeMarker } from "./upgrade-marker.js";

export interface UpgradeGuard {
  /** Call on every Welcome: the first one confirms a pending upgrade. */
  onWelcome(): void;
  stop(): void;
}

/**
 * On start after an upgrade (the marker exists), the new executable must reach the server within
 * `timeoutMs`: a Welcome confirms it (the marker is removed, .prev kept for a manual rollback);
 * otherwise the previous executable is put back and `exit(1)` lets the supervisor start it.
 */
export async function startUpgradeGuard(options: {
  logger: Logger;
  version: string;
  executable?: string;
  runningAsExecutable?: boolean;
  timeoutMs?: number;
  exit?: (code: number) => void;
}): Promise<UpgradeGuard> {
  const { logger } = options;
  const paths = executablePaths(options.executable ?? process.execPath);
  const marker = (options.runningAsExecutable ?? isSea()) ? await readUpgradeMarker(paths.marker) : undefined;
  if (!marker) return { onWelcome() {}, stop() {} };

  const exit = options.exit ?? ((code: number) => process.exit(code));
  let settled = false;
  logger.info(
    { from: marker.from, to: marker.to, attempt: marker.attempts },
    "upgrade: waiting to reach the server",
  );
  const timer = setTimeout(() => {
    if (settled) return;
    settled = true;
    rollBack().then(
      () => exit(1),
      (error: unknown) => {
        logger.error({ err: error }, "upgrade: rolling back failed; the prestart helper will retry");
        exit(1);
      },
    );
  }, options.timeoutMs ?? 60_000);

  async function rollBack() {
    await access(paths.previous, constants.X_OK);
    await rename(paths.previous, paths.executable);
    await removeUpgradeMarker(paths.marker);
    logger.error(
      { from: marker?.from, to: marker?.to },
      "upgrade: the new agent did not reach the server in time; rolled back to the previous executable",
    );
  }

  return {
    onWelcome() {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      removeUpgradeMarker(paths.marker).then(
        () => logger.info({ version: options.version, from: marker.from }, "upgrade: confirmed"),
        (error: unknown) => logger.warn({ err: error }, "upgrade: could not remove the marker"),
      );
    },
    stop() {
      settled = true;
      clearTimeout(timer);
    },
  };
}
