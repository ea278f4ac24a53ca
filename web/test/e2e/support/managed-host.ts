import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
// The console's end-to-end flow drives the same real parts the server's and the agent's own tests
// use: Debian's sshd on loopback as the managed host, and the stand-in instance images built FROM
// a local busybox image (there is no registry here). Test support only; no product code crosses.
import {
  ensureInstanceTestImages,
  type InstanceTestImages,
} from "../../../../agent/src/test/instance-test-images.js";
import { generateUserKey, type SshdHost, startSshdHost } from "../../../../server/test/support/sshd-host.js";

const run = promisify(execFile);
const repoRoot = new URL("../../../../", import.meta.url).pathname;

export interface ManagedHost {
  readonly sshd: SshdHost;
  readonly username: string;
  /** The private key as a file, for the form's upload field. */
  readonly keyFile: string;
  /** Where onboarding installs the agent on this host (OCORE_AGENT_INSTALL_PREFIX). */
  readonly installPrefix: string;
  readonly images: InstanceTestImages;
  /**
   * Uninstalls whatever onboarding left (agent, supervisor) and removes what Docker still holds
   * of the named instances (an interrupted run): containers, network and volumes.
   */
  cleanUp(instanceNames: readonly string[]): Promise<void>;
}

/**
 * This machine as a host an operator adds: a fresh Linux user with passwordless sudo that signs in
 * with a generated ed25519 key on a loopback sshd, and the stand-in Odoo/PostgreSQL/Mailpit images
 * present in the local Docker daemon.
 */
export async function startManagedHost(): Promise<ManagedHost> {
  const work = mkdtempSync(path.join(os.tmpdir(), "ocore-web-e2e-host-"));
  const key = generateUserKey();
  const keyFile = path.join(work, "id_ed25519");
  writeFileSync(keyFile, key.privateKey, { mode: 0o600 });
  const [images, sshd] = await Promise.all([
    ensureInstanceTestImages(),
    startSshdHost([{ publicKey: key.publicKey, sudo: true }]),
  ]);
  const username = sshd.users[0]?.username ?? "";
  const installPrefix = path.join(work, "ocore-agent");
  return {
    sshd,
    username,
    keyFile,
    installPrefix,
    images,
    async cleanUp(instanceNames) {
      if (existsSync(path.join(installPrefix, "libexec/uninstall-agent.sh"))) {
        await run(
          "bash",
          [path.join(repoRoot, "deploy/host/uninstall-agent.sh"), "--prefix", installPrefix],
          {
            timeout: 60_000,
          },
        ).catch(() => undefined);
      }
      for (const name of instanceNames) await removeInstanceLeftovers(name);
      await sshd.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Docker objects of instance `name`, named as the agent names them (`ocore-<name>…`). */
async function removeInstanceLeftovers(name: string): Promise<void> {
  const prefix = `ocore-${name}`;
  const docker = (...args: string[]) => run("docker", args).catch(() => ({ stdout: "" }));
  const { stdout } = await docker("ps", "-aq", "--filter", `name=^${prefix}-`);
  const ids = stdout.split(/\s+/).filter(Boolean);
  if (ids.length > 0) await docker("rm", "-f", ...ids);
  await docker("network", "rm", prefix);
  await docker("volume", "rm", `${prefix}-db`, `${prefix}-data`, `${prefix}-config`);
}
