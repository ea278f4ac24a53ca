import path from "node:path";
import type { Config } from "../../platform/config/config.js";
import type { Db } from "../../platform/db/database.js";
import { componentLogger, type Logger } from "../../platform/logging/logger.js";
import { type MasterKeyring, masterKeyFromBase64 } from "../../platform/pki/master-key.js";
import { createSshConnector } from "../../platform/ssh/ssh-client.js";
import { createSshKeyring } from "../../platform/ssh/ssh-credentials.js";
import { defaultAgentExecutable, loadAgentRelease } from "../agent-release/agent-release.js";
import type { CommandRunner } from "../commands/command-runner.js";
import { createAgentUninstaller } from "./agent-uninstaller.js";
import type { ProvisioningDeps } from "./job-context.js";
import { startProvisioningWorker } from "./provisioning-worker.js";
import { productRequirements } from "./requirements.js";

/** The repository's deploy/ directory (host scripts, systemd unit), resolved from this module. */
export function defaultDeployDir(): string {
  return path.resolve(new URL("../../../../deploy", import.meta.url).pathname);
}

export interface Provisioning {
  /** The keys SSH credentials are sealed with (the server lifecycle stores and reads them). */
  readonly sshKeyring: MasterKeyring;
  /** Tells the worker a job is due (it also polls). */
  wake(): void;
  stop(): Promise<void>;
}

/** Builds the SSH client, the credential keys and the provisioning worker, and starts the worker. */
export function startProvisioning(options: {
  readonly config: Config;
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly masterKeyring: MasterKeyring;
  readonly caPin: string;
  readonly commands: CommandRunner;
}): Provisioning {
  const { config, db, now } = options;
  const logger = componentLogger(options.logger, "provisioning");
  const sshKeyring = createSshKeyring({
    configured: config.provisioning.sshKey,
    masterKeys: [options.masterKeyring.current, ...config.masterKey.previous.map(masterKeyFromBase64)],
  });
  const executable = config.agent.executable ?? defaultAgentExecutable();
  const deps: ProvisioningDeps = {
    db,
    ssh: createSshConnector({ logger }),
    sshKeyring,
    logger,
    now,
    deployDir: defaultDeployDir(),
    agentRelease: () => loadAgentRelease(executable),
    enrollment: { caPin: options.caPin, gatewayAddress: config.agent.publicAddress },
    install: {
      prefix: () => config.provisioning.installPrefix,
      unitName: () => "ocore-agent",
      mode: config.provisioning.installMode,
    },
    requirements: productRequirements,
    agentWaitMs: config.provisioning.agentWaitSeconds * 1000,
    uninstaller: createAgentUninstaller(options.commands, now),
  };
  const worker = startProvisioningWorker(deps);
  logger.info(
    {
      owner: worker.owner,
      sshKeyId: sshKeyring.current.id,
      dedicatedSshKey: config.provisioning.sshKey.current !== undefined,
    },
    "provisioning worker started",
  );
  return {
    sshKeyring,
    wake: () => worker.wake(),
    stop: () => worker.stop(),
  };
}
