import type { Duplex } from "node:stream";
import type { AuditContext } from "../../domain/audit/audit-context.js";
import { ensureServerGatewayKey } from "../../domain/ssh-gateway/gateway-keys.js";
import type { SessionSlot } from "../../domain/ssh-gateway/session-limits.js";
import { assertStillAllowed, resolveSshTarget } from "../../domain/ssh-gateway/ssh-access.js";
import { recordSshEvent } from "../../domain/ssh-gateway/ssh-audit.js";
import {
  reloadSshPrincipal,
  revalidateSshIdentity,
  type SshIdentity,
} from "../../domain/ssh-gateway/ssh-identity.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { ConnectionState, Upstream } from "./connection-state.js";
import type { GatewayDeps } from "./gateway-deps.js";
import { connectUpstream } from "./upstream.js";

/** One client connection's life, whatever carries it (an SSH client, or the console's WebSocket). */
export interface GatewayConnection {
  readonly state: ConnectionState;
  /** Sets who is connected: the audit entries from here on name them. */
  setIdentity(identity: SshIdentity): void;
  /** Starts the session length, idle and identity re-check timers (the client is authenticated). */
  begin(): void;
  /** Releases the session slot, stops the timers and audits the end; idempotent. */
  close(): void;
  readonly ended: boolean;
}

/**
 * The part of a gateway connection that does not depend on how the client is carried: opening
 * the host (RBAC, limits, gateway key, agent tunnel, pinned host key, audit), the RBAC re-check
 * of later channels, the limits' timers, the identity re-check, and the audited end. The SSH
 * gateway (gateway-connection.ts) and the console terminal (web-terminal/) both use it.
 */
export function createGatewayConnection(
  deps: GatewayDeps,
  input: {
    clientAddress: string;
    userAgent: string;
    end: () => void;
    /** Who the audit entries name until an identity is set (a ProxyJump: its outer connection). */
    context?: AuditContext;
  },
): GatewayConnection {
  const { db, logger, now } = deps;
  const startedAt = now();
  const base = { sourceIp: input.clientAddress, userAgent: input.userAgent };
  let context: AuditContext = input.context ?? { actor: { type: "system", id: "", name: "ssh" }, ...base };
  let slot: SessionSlot | undefined;
  let opening: Promise<Upstream> | undefined;
  let opened: Upstream | undefined;
  let ended = false;
  const timers: NodeJS.Timeout[] = [];
  let idleTimer: NodeJS.Timeout | undefined;

  const state: ConnectionState = {
    deps,
    get context() {
      return context;
    },
    clientAddress: input.clientAddress,
    identity: undefined,
    target: { error: "not authenticated" },
    lastExitStatus: null,
    notices: new Set(),
    meter: {
      bytesIn: 0,
      bytesOut: 0,
      touch: () => {
        if (!idleTimer) return;
        idleTimer.refresh();
      },
    },
    async upstream() {
      const first = !opening;
      opening ??= openUpstream().then((upstream) => {
        opened = upstream;
        return upstream;
      });
      const upstream = await opening;
      // RBAC is checked when the connection opens and again on every later channel.
      if (!first && state.identity) {
        const principal = await reloadSshPrincipal(db, state.identity);
        try {
          assertStillAllowed(principal, upstream.server, upstream.login);
        } catch (error) {
          const detail = error instanceof AppError ? error.message : "refused";
          await recordSshEvent(
            db,
            context,
            { action: "ssh.refused", serverId: upstream.server.id, result: "denied", detail },
            now(),
          );
          throw error;
        }
        if (principal) state.identity = { ...state.identity, principal };
      }
      return upstream;
    },
    terminate(message) {
      for (const notify of state.notices) notify(message);
      setTimeout(() => input.end(), 50);
    },
  };

  async function openUpstream(): Promise<Upstream> {
    const identity = state.identity;
    if (!identity) throw new AppError("unauthenticated", "not authenticated");
    if ("error" in state.target) throw AppError.invalid("username", state.target.error);
    const target = state.target;
    if (!target.server) throw AppError.invalid("username", "no server named");
    let serverId = "";
    try {
      const { server, login } = await resolveSshTarget(db, identity.principal, {
        server: target.server,
        login: target.login,
      });
      serverId = server.id;
      slot = deps.counter.acquire(`${identity.principal.kind}:${identity.userId}`, server.id);
      const key = await ensureServerGatewayKey(db, deps.keyring, server.id);
      const sock: Duplex = await deps.tunnels.open(server.id, {
        sshdPort: server.sshPort,
        login,
        gatewayPublicKey: key.publicKey,
      });
      const upstream = await connectUpstream({
        sock,
        login,
        privateKey: key.privateKey,
        pinnedFingerprint: server.hostKeyFingerprint,
        serverName: server.name,
      });
      upstream.on("close", () => input.end());
      // The idle clock measures the user, not the time the tunnel and the host took to open.
      state.meter.touch();
      await recordSshEvent(
        db,
        context,
        {
          action: "ssh.session.start",
          serverId: server.id,
          detail: `${login}@${server.name} via ${identity.method}`,
        },
        now(),
      );
      return { client: upstream, server, login };
    } catch (error) {
      slot?.release();
      slot = undefined;
      const message =
        error instanceof AppError ? error.message : "internal error; the server log has the details";
      if (!(error instanceof AppError)) logger.error({ err: error }, "opening an SSH gateway session failed");
      await recordSshEvent(
        db,
        context,
        { action: "ssh.refused", serverId: serverId || target.server, result: "denied", detail: message },
        now(),
      ).catch((auditError: unknown) => logger.error({ err: auditError }, "could not audit an SSH refusal"));
      throw new AppError(error instanceof AppError ? error.code : "internal", message);
    }
  }

  return {
    state,
    get ended() {
      return ended;
    },
    setIdentity(identity) {
      state.identity = identity;
      const principal = identity.principal;
      context = { ...base, actor: { type: principal.kind, id: principal.id, name: principal.name } };
    },
    begin() {
      const { limits } = deps;
      if (limits.maxSessionSeconds > 0) {
        timers.push(
          setTimeout(
            () =>
              state.terminate(
                `the session reached its maximum length of ${limits.maxSessionSeconds} s (OCORE_SSH_MAX_SESSION_SECONDS)`,
              ),
            limits.maxSessionSeconds * 1000,
          ),
        );
      }
      if (limits.idleTimeoutSeconds > 0) {
        idleTimer = setTimeout(
          () =>
            state.terminate(
              `the session was idle for ${limits.idleTimeoutSeconds} s (OCORE_SSH_IDLE_TIMEOUT_SECONDS)`,
            ),
          limits.idleTimeoutSeconds * 1000,
        );
        timers.push(idleTimer);
      }
      const revalidate = setInterval(() => {
        const identity = state.identity;
        if (!identity) return;
        revalidateSshIdentity(db, identity, now()).then(
          (reason) => reason && state.terminate(`the session was ended: ${reason}`),
          (error: unknown) => logger.warn({ err: error }, "could not check an SSH session's identity"),
        );
      }, deps.revalidateEveryMs);
      timers.push(revalidate);
    },
    close() {
      if (ended) return;
      ended = true;
      for (const timer of timers) clearTimeout(timer);
      slot?.release();
      const upstream = opened;
      opened?.client.end();
      if (!upstream) return;
      const seconds = Math.round((now().getTime() - startedAt.getTime()) / 1000);
      recordSshEvent(
        db,
        context,
        {
          action: "ssh.session.end",
          serverId: upstream.server.id,
          detail: `${upstream.login}@${upstream.server.name}: ${seconds} s, ${state.meter.bytesIn} bytes in, ${state.meter.bytesOut} bytes out, exit status ${state.lastExitStatus ?? "none"}`,
          after: {
            login: upstream.login,
            durationSeconds: seconds,
            bytesIn: state.meter.bytesIn,
            bytesOut: state.meter.bytesOut,
            exitStatus: state.lastExitStatus,
          },
        },
        now(),
      ).catch((error: unknown) => logger.error({ err: error }, "could not audit the end of an SSH session"));
    },
  };
}
