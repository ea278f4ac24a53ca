import type { Duplex } from "node:stream";
import type { AuditContext } from "../../domain/audit/audit-context.js";
import type { DenialAggregator } from "../../domain/audit/denial-aggregator.js";
import type { SessionCounter } from "../../domain/ssh-gateway/session-limits.js";
import type { SshIdentity, SshIdentityDeps } from "../../domain/ssh-gateway/ssh-identity.js";
import type { LiveSessions } from "../../domain/ssh-sessions/live-sessions.js";
import type { SessionRecorder, SessionStart } from "../../domain/ssh-sessions/session-recorder.js";
import type { SshSessionLimits } from "../../platform/config/config.js";
import type { Db } from "../../platform/db/database.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { MasterKeyring } from "../../platform/pki/master-key.js";

/** A nested connection of `ssh -J user@gateway server`: who, from where, and to which server. */
export interface JumpRequest {
  readonly identity: SshIdentity;
  readonly context: AuditContext;
  readonly clientAddress: string;
  /** The oCore username of the outer connection. */
  readonly user: string;
  /** The server name or id the client asked to reach. */
  readonly server: string;
}

/** Everything the SSH gateway needs, wired in startup/start-ssh-gateway.ts. */
export interface GatewayDeps {
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly keyring: MasterKeyring;
  readonly identity: SshIdentityDeps;
  /** Refused logins (keys, tokens) are audited through it, aggregated per address and user. */
  readonly denials: DenialAggregator;
  readonly limits: SshSessionLimits;
  readonly counter: SessionCounter;
  /** Opens a byte stream to a server's sshd through its agent (agent-gateway/ssh-tunnels.ts). */
  readonly tunnels: {
    open(
      serverId: string,
      spec: { sshdPort: number; login: string; gatewayPublicKey: string },
    ): Promise<Duplex>;
  };
  /** How often an open connection's user or token is checked again (disabled, revoked). */
  readonly revalidateEveryMs: number;
  /**
   * Serves a ProxyJump: the channel carries the client's nested SSH connection to `server`,
   * which the gateway terminates itself (so it is authorized, audited and recorded like any
   * other), as the already authenticated `identity`. Set by ssh-gateway-server.ts.
   */
  readonly jump?: (channel: Duplex, jump: JumpRequest) => void;
  /** Session recordings and the live-session list (domain/ssh-sessions/), when wired. */
  readonly recording?: {
    readonly start: (db: Db, start: SessionStart) => Promise<SessionRecorder>;
    readonly live: LiveSessions;
  };
}
