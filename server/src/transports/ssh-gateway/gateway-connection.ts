import type { Duplex } from "node:stream";
import type ssh2 from "ssh2";
import type { AuditContext } from "../../domain/audit/audit-context.js";
import { ensureServerGatewayKey } from "../../domain/ssh-gateway/gateway-keys.js";
import type { SessionSlot } from "../../domain/ssh-gateway/session-limits.js";
import { assertStillAllowed, mayForward, resolveSshTarget } from "../../domain/ssh-gateway/ssh-access.js";
import { recordSshEvent } from "../../domain/ssh-gateway/ssh-audit.js";
import { reloadSshPrincipal, revalidateSshIdentity } from "../../domain/ssh-gateway/ssh-identity.js";
import { LOGIN, parseSshTarget } from "../../domain/ssh-gateway/ssh-target.js";
import { AppError } from "../../platform/errors/app-error.js";
import { authenticateRequest } from "./authenticate.js";
import type { ConnectionState, Upstream } from "./connection-state.js";
import type { GatewayDeps, JumpRequest } from "./gateway-deps.js";
import { handleSession } from "./session-channel.js";
import { connectUpstream } from "./upstream.js";

/**
 * Serves one client connection of the SSH gateway, from authentication to its audited end. A
 * nested ProxyJump connection (`jump`) is already authenticated by its outer connection.
 */
export function serveConnection(
  deps: GatewayDeps,
  client: ssh2.Connection,
  info: ssh2.ClientInfo,
  jump?: JumpRequest,
): void {
  const { db, logger, now } = deps;
  const startedAt = now();
  const base = { sourceIp: info.ip, userAgent: `ssh ${info.header?.versions?.software ?? ""}`.trim() };
  let context: AuditContext = jump?.context ?? { actor: { type: "system", id: "", name: "ssh" }, ...base };
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
    clientAddress: info.ip,
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
      setTimeout(() => client.end(), 50);
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
      upstream.on("close", () => client.end());
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

  client.on("authentication", (ctx) => {
    if (jump) {
      // The nested username is the host login; the oCore username itself means the default one.
      const login = ctx.username === jump.user ? undefined : ctx.username;
      state.target =
        login === undefined || LOGIN.test(login)
          ? { user: jump.user, server: jump.server, login }
          : { error: `"${login.slice(0, 40)}" is not a host login name` };
      state.identity = jump.identity;
      ctx.accept();
      return;
    }
    state.target = parseSshTarget(ctx.username);
    authenticateRequest({ ...deps.identity, logger, denials: deps.denials }, context, ctx, (identity) => {
      state.identity = identity;
      const principal = identity.principal;
      context = { ...base, actor: { type: principal.kind, id: principal.id, name: principal.name } };
    }).catch((error: unknown) => logger.error({ err: error }, "SSH authentication failed"));
  });

  client.on("ready", () => {
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
  });

  client.on("session", (accept) => handleSession(state, accept()));
  client.on("tcpip", (accept, reject, request) => {
    forward(accept, reject, request).catch((error: unknown) =>
      logger.error({ err: error }, "forwarding failed"),
    );
  });
  // Remote forwarding (-R) and stream-local forwarding are not offered.
  client.on("request", (_accept, reject) => reject?.());
  client.on("openssh.streamlocal", (_accept, reject) => reject());
  client.on("error", (error) => logger.debug({ err: error, ip: info.ip }, "SSH client connection error"));
  client.on("close", () => {
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
  });

  async function forward(
    accept: () => ssh2.ServerChannel,
    reject: () => void,
    request: ssh2.TcpipRequestInfo,
  ): Promise<void> {
    const target = state.target;
    if (!("error" in target) && target.server === undefined && state.identity && deps.jump && !jump) {
      // `ssh -J user@gateway server`: no server in the username, the channel names it. The
      // nested connection is served here like any other (RBAC, audit, recording).
      deps.jump(accept(), {
        identity: state.identity,
        context,
        clientAddress: state.clientAddress,
        user: target.user,
        server: request.destIP,
      });
      return;
    }
    let upstream: Upstream;
    try {
      upstream = await state.upstream();
    } catch {
      return reject();
    }
    const where = `${request.destIP}:${request.destPort}`;
    const allowed = state.identity && mayForward(state.identity.principal, upstream.server);
    await recordSshEvent(
      db,
      context,
      {
        action: "ssh.forward",
        serverId: upstream.server.id,
        result: allowed ? "success" : "denied",
        detail: allowed
          ? `local forwarding to ${where} on ${upstream.server.name}`
          : `local forwarding to ${where} refused: servers.ssh.forward not held`,
      },
      now(),
    );
    if (!allowed || ended) return reject();
    upstream.client.forwardOut(
      request.srcIP,
      request.srcPort,
      request.destIP,
      request.destPort,
      (error, up) => {
        if (error) return reject();
        const down = accept();
        down.on("data", (chunk: Buffer) => {
          state.meter.bytesIn += chunk.length;
          state.meter.touch();
        });
        up.on("data", (chunk: Buffer) => {
          state.meter.bytesOut += chunk.length;
          state.meter.touch();
        });
        down.pipe(up).pipe(down);
      },
    );
  }
}
