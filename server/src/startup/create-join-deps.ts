import { defaultAgentExecutable, loadAgentRelease } from "../domain/agent-release/agent-release.js";
import type { JoinDeps } from "../domain/joining/join-deps.js";
import { productRequirements, type Requirements } from "../domain/provisioning/requirements.js";
import type { Config } from "../platform/config/config.js";
import type { Db } from "../platform/db/database.js";

/** The host's last report is one HTTP request: it waits for the agent at most this long. */
const MAX_JOIN_AGENT_WAIT_MS = 150_000;

/** What joining from the host needs, from the settings and the agent channel's PKI. */
export function createJoinDeps(options: {
  readonly config: Config;
  readonly db: Db;
  readonly pki: { readonly caPin: string; readonly caCertificatePem: string };
  readonly now: () => Date;
  readonly deployDir: string;
  readonly gatewayAddress?: string;
  readonly installPrefix?: (serverId: string) => string;
  readonly requirements?: Requirements;
}): JoinDeps {
  const { config } = options;
  const executable = config.agent.executable ?? defaultAgentExecutable();
  return {
    db: options.db,
    now: options.now,
    ca: { pin: options.pki.caPin, certificatePem: options.pki.caCertificatePem },
    gatewayAddress: options.gatewayAddress ?? config.agent.publicAddress,
    deployDir: options.deployDir,
    agentRelease: () => loadAgentRelease(executable),
    publicUrl: config.publicUrl,
    ttlMs: config.provisioning.joinTtlSeconds * 1000,
    install: {
      prefix: options.installPrefix ?? (() => config.provisioning.installPrefix),
      unitName: () => "ocore-agent",
    },
    requirements: options.requirements ?? productRequirements,
    agentWaitMs: Math.min(config.provisioning.agentWaitSeconds * 1000, MAX_JOIN_AGENT_WAIT_MS),
  };
}
