import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";

/**
 * Replaces `file` with `data` so that a crash leaves either the old or the new content, never
 * a mix: write a temporary file in the same directory, fsync it, rename it over, fsync the
 * directory so the rename itself survives a power loss.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const directory = path.dirname(file);
  const temporary = path.join(directory, `.${path.basename(file)}.${process.pid}.tmp`);
  const handle = await open(temporary, "w", mode);
  try {
    await handle.writeFile(data);
    // open()'s mode is filtered by the umask; the final mode must not be.
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(directory);
}

export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates the agent's private directory (0700), tightening the mode of one that exists. */
export async function ensurePrivateDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const handle = await open(directory, "r");
  try {
    await handle.chmod(0o700);
  } finally {
    await handle.close();
  }
}
