import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** A PostgreSQL URL whose user may create databases; each test makes its own. */
    postgresAdminUrl: string;
  }
}

const HOW_TO_GET_POSTGRES =
  "Install it (Debian: apt-get install postgresql) or set TEST_DATABASE_URL to a server where the user may create databases.";

/**
 * Gives the tests a real PostgreSQL: TEST_DATABASE_URL when set, otherwise a throwaway cluster
 * started from the machine's PostgreSQL binaries and removed afterwards. Never skips: without
 * PostgreSQL the run fails and says how to get it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    await waitUntilAccepting(given, 1);
    project.provide("postgresAdminUrl", given);
    return async () => {};
  }
  const cluster = await startCluster();
  project.provide("postgresAdminUrl", cluster.url);
  return cluster.stop;
}

/** A throwaway PostgreSQL cluster (also used by the benchmarks). */
export async function startCluster(): Promise<{ url: string; stop: () => Promise<void> }> {
  const bin = findPostgresBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocore-test-pg-"));
  // initdb refuses to run as root: the cluster then belongs to the postgres user.
  const owner = process.getuid?.() === 0 ? postgresUser() : {};
  if (owner.uid !== undefined && owner.gid !== undefined) {
    chmodSync(dir, 0o700);
    chownSync(dir, owner.uid, owner.gid);
  }
  const data = path.join(dir, "data");
  execFileSync(
    path.join(bin, "initdb"),
    ["-D", data, "-A", "trust", "-U", "ocore", "-E", "UTF8", "--no-sync"],
    {
      ...owner,
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  const port = await freePort();
  const server: ChildProcess = spawn(
    path.join(bin, "postgres"),
    [
      ...["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1"],
      ...["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
      ...["-c", "max_connections=300", "-c", "shared_buffers=128MB"],
    ],
    { ...owner, cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  server.stderr?.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const url = `postgres://ocore@127.0.0.1:${port}/postgres`;
  try {
    await waitUntilAccepting(url, 30, () => server.exitCode !== null);
  } catch (error) {
    server.kill("SIGKILL");
    throw new Error(`the test PostgreSQL cluster did not start: ${String(error)}\n${log}`);
  }
  return {
    url,
    stop: async () => {
      if (server.exitCode === null) {
        const exited = new Promise((resolve) => server.once("exit", resolve));
        server.kill("SIGINT"); // fast shutdown
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function findPostgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(path.join(root, name, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest) return path.join(root, newest, "bin");
  try {
    return execFileSync("pg_config", ["--bindir"]).toString().trim();
  } catch {
    throw new Error(`PostgreSQL is needed by the tests and was not found. ${HOW_TO_GET_POSTGRES}`);
  }
}

function postgresUser(): { uid?: number; gid?: number } {
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
    return { uid, gid };
  } catch {
    throw new Error(
      `the tests run as root and there is no postgres user to own the test cluster. ${HOW_TO_GET_POSTGRES}`,
    );
  }
}

async function waitUntilAccepting(
  url: string,
  seconds: number,
  gaveUp: () => boolean = () => false,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let lastError: unknown;
  while (Date.now() < deadline && !gaveUp()) {
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await sql`select 1`;
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await sql.end({ timeout: 1 });
    }
  }
  throw new Error(
    `PostgreSQL at ${url} is not accepting connections (${String(lastError)}). ${HOW_TO_GET_POSTGRES}`,
  );
}

// Kept here rather than imported from ./free-port.js: the benchmarks run this file with Node's
// type stripping, which does not map .js imports to .ts files.
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
