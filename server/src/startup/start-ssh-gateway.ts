import { createDenialAggregator } from "../domain/audit/denial-aggregator.js";
import type { AccessTokens } from "../domain/auth/access-tokens.js";
import type { LoginLimiter } from "../domain/auth/login-limiter.js";
import { ensureGatewayHostKey, knownHostsLine } from "../domain/ssh-gateway/gateway-keys.js";
import { createSessionCounter } from "../domain/ssh-gateway/session-limits.js";
import type { SshGatewayInfo } from "../domain/system/system-info.js";
import type { SshSessionLimits } from "../platform/config/config.js";
import type { Db } from "../platform/db/database.js";
import type { Logger } from "../platform/logging/logger.js";
import type { MasterKeyring } from "../platform/pki/master-key.js";
import type { GatewayDeps } from "../transports/ssh-gateway/gateway-deps.js";
import { createSshGatewayServer } from "../transports/ssh-gateway/ssh-gateway-server.js";
import { describeListenFailure } from "./listen-errors.js";

export interface SshGateway {
  readonly port: number;
  readonly info: SshGatewayInfo;
  close(): Promise<void>;
}

export interface SshGatewayDepsOptions {
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly keyring: MasterKeyring;
  readonly accessTokens: AccessTokens;
  readonly limiter: LoginLimiter;
  readonly limits: SshSessionLimits;
  readonly tunnels: GatewayDeps["tunnels"];
  readonly recording?: GatewayDeps["recording"];
  readonly revalidateEveryMs?: number;
  /** The window in which identical login refusals are counted into one audit entry (default 60 s). */
  readonly denialWindowMs?: number;
}

/**
 * What the gateway's sessions need, built once: the SSH listener and the console terminal share
 * it, so they share one session counter (the per-user and per-host limits count both).
 */
export function createSshGatewayDeps(options: SshGatewayDepsOptions): GatewayDeps {
  const { db, now } = options;
  return {
    db,
    logger: options.logger,
    now,
    keyring: options.keyring,
    identity: { db, limiter: options.limiter, now, accessTokens: options.accessTokens },
    denials: createDenialAggregator({
      db,
      logger: options.logger,
      now,
      windowMs: options.denialWindowMs,
      overflowAction: "ssh.login",
    }),
    limits: options.limits,
    counter: createSessionCounter(options.limits),
    tunnels: options.tunnels,
    revalidateEveryMs: options.revalidateEveryMs ?? 5_000,
    recording: options.recording,
  };
}

/**
 * The SSH gateway: its host key (created once, sealed, shared by replicas), its session counter
 * and its listener on OCORE_SSH_LISTEN_ADDR.
 */
export async function startSshGateway(
  options: SshGatewayDepsOptions & {
    readonly listen: { readonly host: string; readonly port: number };
    /** The host name users connect to (in the known_hosts line). */
    readonly publicHost: string;
    /** Shared with the console terminal; default: built from the options. */
    readonly deps?: GatewayDeps;
  },
): Promise<SshGateway> {
  const { db, logger } = options;
  const hostKey = await ensureGatewayHostKey(db, options.keyring);
  const deps = options.deps ?? createSshGatewayDeps(options);
  const server = createSshGatewayServer(deps, hostKey.privateKey);
  let port: number;
  try {
    port = await server.listen(options.listen.host, options.listen.port);
  } catch (error) {
    await deps.denials.close();
    throw describeListenFailure(options.listen.host, options.listen.port, error, "OCORE_SSH_LISTEN_ADDR");
  }
  const listenAddress = `${options.listen.host.includes(":") ? `[${options.listen.host}]` : options.listen.host}:${port}`;
  logger.info({ address: listenAddress, hostKey: hostKey.fingerprint }, "SSH gateway listening");
  return {
    port,
    info: {
      listenAddress,
      hostKeyFingerprint: hostKey.fingerprint,
      hostPublicKey: hostKey.publicKey,
      knownHostsLine: knownHostsLine(options.publicHost, port, hostKey.publicKey),
    },
    async close() {
      await server.close();
      await deps.denials.close();
    },
  };
}
