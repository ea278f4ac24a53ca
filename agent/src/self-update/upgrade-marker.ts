import { readFile, rename, rm, writeFile } from "node:fs/promises";

/**
 * The upgrade marker (bin/ocore-agent.upgrade), shared with deploy/host/prestart-agent.sh: plain
 * `key=value` lines. `attempts` counts the starts of the new executable (the prestart helper
 * increments it and rolls back after 3); the new agent deletes the file once it reached the server.
 */
export interface UpgradeMarker {
  readonly from: string;
  readonly to: string;
  readonly attempts: number;
}

export async function writeUpgradeMarker(file: string, marker: UpgradeMarker): Promise<void> {
  const temporary = `${file}.tmp`;
  await writeFile(temporary, `from=${marker.from}\nto=${marker.to}\nattempts=${marker.attempts}\n`, {
    mode: 0o600,
  });
  await rename(temporary, file);
}

/** undefined when there is no marker (no upgrade pending). */
export async function readUpgradeMarker(file: string): Promise<UpgradeMarker | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(text)?.[1] ?? "";
  return { from: value("from"), to: value("to"), attempts: Number(value("attempts")) || 0 };
}

export async function removeUpgradeMarker(file: string): Promise<void> {
  await rm(file, { force: true });
}
