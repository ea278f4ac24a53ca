import { readdir } from "node:fs/promises";
import path from "node:path";
import type { SshConnection } from "../../platform/ssh/ssh-client.js";
import { SshError } from "../../platform/ssh/ssh-error.js";
import { ProvisioningFailure } from "./provisioning-failure.js";

/** The files of `deploy/` that run on hosts: every host script and the systemd unit. */
export async function hostFiles(
  deployDir: string,
): Promise<Array<{ name: string; path: string; mode: number }>> {
  const scripts = (await readdir(path.join(deployDir, "host"))).filter(
    // join.sh is served to hosts that join by themselves (domain/joining), never uploaded.
    (name) => name.endsWith(".sh") && name !== "join.sh",
  );
  return [
    ...scripts.map((name) => ({ name, path: path.join(deployDir, "host", name), mode: 0o700 })),
    {
      name: "ocore-agent.service",
      path: path.join(deployDir, "systemd", "ocore-agent.service"),
      mode: 0o600,
    },
  ];
}

/**
 * A private directory on the host (mktemp -d: mode 0700, owned by the SSH user) holding what
 * one job uploads; removed by dispose(). Commands needing root go through `sudo -n` unless the
 * user is root.
 */
export interface HostWorkspace {
  readonly dir: string;
  put(
    name: string,
    source: { readonly path: string } | { readonly data: Buffer },
    mode: number,
  ): Promise<string>;
  /** Runs a script of the workspace with arguments, as root when asRoot. */
  run(
    script: string,
    args: readonly string[],
    options: { readonly asRoot: boolean; readonly timeoutMs: number },
  ): Promise<{ exitCode: number | null; stdout: string; stderr: string }>;
  dispose(): Promise<void>;
}

export async function openWorkspace(connection: SshConnection, isRoot: boolean): Promise<HostWorkspace> {
  const made = await connection.exec(["mktemp", "-d", "/tmp/ocore-provision.XXXXXXXX"], {
    timeoutMs: 30_000,
  });
  const dir = made.stdout.trim();
  if (made.exitCode !== 0 || !dir.startsWith("/tmp/ocore-provision.")) {
    throw new ProvisioningFailure(
      "upload_failed",
      `could not create a private directory in /tmp on the host (${made.stderr.trim() || `exit ${made.exitCode}`}); check that /tmp exists and is writable`,
    );
  }
  return {
    dir,
    async put(name, source, mode) {
      const remote = `${dir}/${name}`;
      try {
        await connection.upload(source, remote, { mode });
      } catch (error) {
        if (error instanceof SshError)
          throw new ProvisioningFailure("upload_failed", error.message, { cause: error });
        throw error;
      }
      return remote;
    },
    async run(script, args, options) {
      const argv = [`${dir}/${script}`, ...args];
      const result = await connection.exec(options.asRoot && !isRoot ? ["sudo", "-n", "--", ...argv] : argv, {
        timeoutMs: options.timeoutMs,
      });
      return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
    },
    async dispose() {
      // The directory may hold root-owned files when a script ran through sudo.
      await connection
        .exec(
          isRoot
            ? ["rm", "-rf", "--", dir]
            : ["sh", "-c", 'rm -rf -- "$1" 2>/dev/null || sudo -n rm -rf -- "$1"', "sh", dir],
          {
            timeoutMs: 30_000,
          },
        )
        .catch(() => undefined);
    },
  };
}
