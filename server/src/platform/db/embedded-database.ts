import { spawn } from "node:child_process";
import { existsSync, readdirSync, renameSync, rmdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DatabaseOptions } from "./database.js";

/**
 * The child's entry in the build. The same path works from src/db (tests, which run after the
 * build) and dist/db (the built server), like the migrations folder.
 */
const childEntry = fileURLToPath(
  new URL("../../../dist/platform/db/create-embedded-database-main.js", import.meta.url),
);

/**
 * On the very first start of an embedded database, creates and migrates it in a short-lived
 * child process, then moves it into place; does nothing for PostgreSQL, an in-memory PGlite or a
 * directory that is not empty.
 *
 * Why a child: PGlite creates a database by running initdb in a second WebAssembly instance on an
 * in-memory file system and copying the result over as a tar archive. Those hundreds of MB of
 * short-lived buffers are freed afterwards, but the C allocator keeps the fragmented heap: the
 * server stayed ~150 MB larger for its whole life than after a restart. The child's memory goes
 * back to the system when it exits. It builds in a sibling directory renamed at the end, so an
 * interrupted first start leaves no half-made database behind.
 */
export async function prepareEmbeddedDatabase(options: DatabaseOptions): Promise<void> {
  if (options.kind !== "pglite" || !options.dir) return;
  const target = options.dir;
  // Anything already there (a database, or files that are not one) is left to PGlite as before.
  if (existsSync(target) && readdirSync(target).length > 0) return;
  const building = `${target}.creating`;
  rmSync(building, { recursive: true, force: true });
  await runChild(building);
  if (existsSync(target)) rmdirSync(target); // empty: rename(2) does not replace a directory on every system
  renameSync(building, target);
}

function runChild(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childEntry, dir], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000);
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code === 0) resolve();
      else {
        const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
        reject(new Error(`creating the database ${how}: ${stderr.trim() || "no message"}`));
      }
    });
  });
}
