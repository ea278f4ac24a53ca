import { randomUUID } from "node:crypto";
import { Duplex } from "node:stream";
import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import {
  type TunnelRequest,
  type TunnelResponse,
  TunnelResponseSchema,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { authenticateAgent } from "../../domain/agent-identity/authenticate-agent.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { AgentPki } from "../../platform/pki/agent-pki.js";
import { toServiceError } from "./grpc-status.js";
import type { SessionRegistry } from "./session-registry.js";

/** What the gateway asks of the agent for one tunnel. */
export interface TunnelSpec {
  readonly sshdPort: number;
  readonly login: string;
  readonly gatewayPublicKey: string;
}

export interface SshTunnels {
  /**
   * Asks the server's agent (on its live stream) to open a Tunnel call and resolves with it as a
   * byte stream to the host's sshd; rejects with a message for the user's terminal.
   */
  open(serverId: string, spec: TunnelSpec): Promise<Duplex>;
  /** AgentService/Tunnel. */
  readonly handler: grpc.handleBidiStreamingCall<TunnelRequest, TunnelResponse>;
}

type Call = grpc.ServerDuplexStream<TunnelRequest, TunnelResponse>;

interface Pending {
  readonly serverId: string;
  resolve(call: Call): void;
  reject(error: Error): void;
}

const CHUNK = 64 * 1024;

export function createSshTunnels(deps: {
  db: Db;
  pki: AgentPki;
  registry: SessionRegistry;
  logger: Logger;
  now: () => Date;
  openTimeoutMs?: number;
}): SshTunnels {
  const pending = new Map<string, Pending>();

  const handler: grpc.handleBidiStreamingCall<TunnelRequest, TunnelResponse> = (call) => {
    const refuse = (error: AppError) =>
      call.emit("error", toServiceError({ code: error.code, message: error.message }));
    const run = async () => {
      const identity = await authenticateAgent(deps.db, deps.pki, {
        certificateDer: call.getAuthContext()?.sslPeerCertificate?.raw,
        now: deps.now(),
      });
      const first = await new Promise<TunnelRequest | undefined>((resolve) => {
        call.once("data", resolve);
        call.once("end", () => resolve(undefined));
        call.once("error", () => resolve(undefined));
      });
      call.pause();
      const opened = first?.frame.case === "opened" ? first.frame.value : undefined;
      if (!opened) throw AppError.invalid("opened", "the first message of a tunnel must be `opened`");
      const waiting = pending.get(opened.tunnelId);
      if (!waiting || waiting.serverId !== identity.serverId) {
        throw new AppError("not_found", "no tunnel with this id is waiting for this server");
      }
      pending.delete(opened.tunnelId);
      if (opened.errorCode) {
        waiting.reject(new AppError("unavailable", opened.errorMessage || opened.errorCode));
        call.end();
        return;
      }
      waiting.resolve(call);
    };
    run().catch((error: unknown) => {
      if (error instanceof AppError) refuse(error);
      else {
        deps.logger.error({ err: error }, "tunnel call failed");
        refuse(new AppError("internal", "internal error"));
      }
    });
  };

  return {
    handler,
    open(serverId, spec) {
      const session = deps.registry.get(serverId);
      if (!session?.live) {
        return Promise.reject(
          new AppError("unavailable", "the server's agent is offline (not connected to this control server)"),
        );
      }
      const tunnelId = randomUUID();
      return new Promise<Duplex>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(tunnelId);
          reject(new AppError("unavailable", "the agent did not open the tunnel within 15 s"));
        }, deps.openTimeoutMs ?? 15_000);
        pending.set(tunnelId, {
          serverId,
          resolve: (call) => {
            clearTimeout(timer);
            resolve(callAsDuplex(call));
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        session.sendOpenSshTunnel({ tunnelId, ...spec });
      });
    },
  };
}

/** The call as a byte stream, with back-pressure both ways. */
function callAsDuplex(call: Call): Duplex {
  const duplex = new Duplex({
    read() {
      call.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      let ok = true;
      for (let offset = 0; offset < chunk.length; offset += CHUNK) {
        ok = call.write(create(TunnelResponseSchema, { data: chunk.subarray(offset, offset + CHUNK) }));
      }
      if (ok) callback();
      else call.once("drain", () => callback());
    },
    final(callback) {
      call.end();
      callback();
    },
    destroy(error, callback) {
      call.end();
      callback(error);
    },
  });
  call.on("data", (message: TunnelRequest) => {
    if (message.frame.case !== "data") return;
    if (!duplex.push(message.frame.value)) call.pause();
  });
  call.on("end", () => duplex.push(null));
  call.on("error", (error) => duplex.destroy(error));
  call.on("cancelled", () => duplex.destroy(new Error("the agent cancelled the tunnel")));
  call.resume();
  return duplex;
}
