import type ssh2 from "ssh2";
import { mayForward } from "../../domain/ssh-gateway/ssh-access.js";
import { recordSshEvent } from "../../domain/ssh-gateway/ssh-audit.js";
import { LOGIN, parseSshTarget } from "../../domain/ssh-gateway/ssh-target.js";
import { authenticateRequest } from "./authenticate.js";
import { createGatewayConnection } from "./connection-lifecycle.js";
import type { Upstream } from "./connection-state.js";
import type { GatewayDeps, JumpRequest } from "./gateway-deps.js";
import { handleSession } from "./session-channel.js";

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
  const connection = createGatewayConnection(deps, {
    clientAddress: jump?.clientAddress ?? info.ip,
    userAgent: `ssh ${info.header?.versions?.software ?? ""}`.trim(),
    end: () => client.end(),
    context: jump?.context,
  });
  const { state } = connection;

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
    authenticateRequest({ ...deps.identity, logger, denials: deps.denials }, state.context, ctx, (identity) =>
      connection.setIdentity(identity),
    ).catch((error: unknown) => logger.error({ err: error }, "SSH authentication failed"));
  });

  client.on("ready", () => connection.begin());
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
  client.on("close", () => connection.close());

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
        context: state.context,
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
      state.context,
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
    if (!allowed || connection.ended) return reject();
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
