import type * as grpc from "@grpc/grpc-js";
import type { ConnectRequest, ConnectResponse } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { type AgentIdentity, authenticateAgent } from "../../domain/agent-identity/authenticate-agent.js";
import type { DenialAggregator } from "../../domain/audit/denial-aggregator.js";
import type { Db } from "../../platform/db/database.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { AgentPki } from "../../platform/pki/agent-pki.js";
import { AgentSession, type SessionHooks } from "./agent-session.js";
import { type End, endFromError, toServiceError } from "./grpc-status.js";
import { auditAgentRefusal } from "./refusal-audit.js";
import type { SessionStream } from "./session-stream.js";

export interface ConnectHandlerDeps {
  readonly db: Db;
  readonly pki: AgentPki;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly hooks: SessionHooks;
  readonly welcome: { readonly serverVersion: string; readonly metricsIntervalSeconds: number };
  readonly helloTimeoutMs: number;
  /** Every session, live or still awaiting its Hello (for shutdown). */
  readonly sessions: Set<AgentSession>;
  /** Refused streams are audited here, aggregated per source address. */
  readonly refusals: DenialAggregator;
}

type Call = grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>;

/**
 * ocore.agent.v1.AgentService/Connect: the identity comes from the verified client certificate
 * (never from a message), then an AgentSession runs the conversation over the call.
 */
export function createConnectHandler(
  deps: ConnectHandlerDeps,
): grpc.handleBidiStreamingCall<ConnectRequest, ConnectResponse> {
  return (call) => {
    let gone = false;
    call.once("cancelled", () => {
      gone = true;
    });
    const der = call.getAuthContext()?.sslPeerCertificate?.raw;
    authenticateAgent(deps.db, deps.pki, { certificateDer: der, now: deps.now() }).then(
      (identity) => {
        if (gone) return;
        startSession(deps, call, identity);
      },
      (error: unknown) => {
        const end = endFromError(error);
        if (end.code === "internal") deps.logger.error({ err: error }, "agent authentication failed");
        else deps.logger.info({ peer: call.getPeer(), reason: end.message }, "agent stream refused");
        const audited =
          end.code === "internal"
            ? Promise.resolve()
            : auditAgentRefusal(deps.refusals, {
                action: "agent.connect",
                peer: call.getPeer(),
                reason: end.message,
              });
        void audited.finally(() => endCall(call, end));
      },
    );
  };
}

function startSession(deps: ConnectHandlerDeps, call: Call, identity: AgentIdentity): void {
  const logger = deps.logger.child({ serverId: identity.serverId, peer: call.getPeer() });
  const stream: SessionStream = {
    write: (message) => call.write(message),
    onDrain: (listener) => call.on("drain", listener),
    pauseReading: () => call.pause(),
    resumeReading: () => call.resume(),
    end: (end) => endCall(call, end),
  };
  const session = new AgentSession({
    identity,
    stream,
    logger,
    now: deps.now,
    welcome: deps.welcome,
    hooks: {
      ...deps.hooks,
      onClosed: (closed, end, wasLive) => {
        deps.sessions.delete(closed);
        clearTimeout(helloTimer);
        deps.hooks.onClosed(closed, end, wasLive);
      },
    },
  });
  deps.sessions.add(session);
  const helloTimer = setTimeout(() => {
    if (session.state === "awaiting_hello") {
      session.close({
        code: "deadline_exceeded",
        message: `no Hello within ${deps.helloTimeoutMs / 1000} s`,
      });
    }
  }, deps.helloTimeoutMs);
  call.on("data", (message: ConnectRequest) => session.receive(message));
  call.on("end", () => session.peerEnded());
  call.once("cancelled", () => session.transportClosed());
  call.on("error", () => session.transportClosed());
}

function endCall(call: Call, end: End): void {
  if (end.code === "ok") call.end();
  else call.emit("error", toServiceError(end));
}
