import type { Db } from "../../platform/db/database.js";
import type { AgentRelease } from "../agent-release/agent-release.js";
import type { Requirements } from "../provisioning/requirements.js";

/** Everything joining a host from the host itself uses (issue 22), injected once by startup. */
export interface JoinDeps {
  readonly db: Db;
  readonly now: () => Date;
  /** The CA the tokens pin: its pin (base64url SHA-256 of the DER) and its certificate. */
  readonly ca: { readonly pin: string; readonly certificatePem: string };
  /** host:port agents dial (OCORE_AGENT_PUBLIC_ADDR). */
  readonly gatewayAddress: string;
  /** The repository's deploy/ directory (join.sh, the install scripts, the unit). */
  readonly deployDir: string;
  readonly agentRelease: () => Promise<AgentRelease>;
  /** OCORE_PUBLIC_URL: the base URL of join commands when the caller gives none. */
  readonly publicUrl: string | undefined;
  /** How long a join command stays valid by default (OCORE_JOIN_TTL_SECONDS). */
  readonly ttlMs: number;
  readonly install: {
    readonly prefix: (serverId: string) => string;
    readonly unitName: (serverId: string) => string;
  };
  readonly requirements: Requirements;
  /** How long the host's last report waits for the agent's stream. */
  readonly agentWaitMs: number;
}
