import { Duplex } from "node:stream";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  RelayService,
  type SshTunnelRequest,
  SshTunnelRequestSchema,
  type SshTunnelResponse,
  type WatchCommandFeedRequest,
  WatchCommandFeedRequestSchema,
  type WatchCommandFeedResponse,
} from "@ocore/proto/gen/ocore/relay/v1/relay_service_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import type { FeedEvent } from "../../domain/commands/command-feed.js";
import type { FinalState } from "../../domain/commands/command-records.js";
import type { AgentHolder } from "../../domain/replicas/replica-presence.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { TunnelSpec } from "../agent-gateway/ssh-tunnels.js";
import { type RelayIdentity, relayClientCredentials } from "./relay-credentials.js";

const CHUNK = 64 * 1024;
const definition = createGrpcServiceDefinition(RelayService);
const RelayClient = grpc.makeGenericClientConstructor(definition, "RelayService");
type Client = InstanceType<typeof RelayClient> & {
  sshTunnel(): TunnelCall;
  watchCommandFeed(request: WatchCommandFeedRequest): grpc.ClientReadableStream<WatchCommandFeedResponse>;
};
type TunnelCall = grpc.ClientDuplexStream<SshTunnelRequest, SshTunnelResponse>;

/** A replica known to hold an agent, with the address it relays on. */
export type RelayTarget = AgentHolder & { readonly relayAddress: string };

export interface ReplicaRelayClient {
  /** An SSH tunnel to the server's host through the replica that holds its agent. */
  openSshTunnel(target: RelayTarget, serverId: string, spec: TunnelSpec): Promise<Duplex>;
  /**
   * The live events of a command as the holding replica stores them; `onEnd` once the call ends
   * (finished, failed, or cancelled by the returned function).
   */
  watchCommandFeed(
    target: RelayTarget,
    commandId: string,
    onEvent: (event: FeedEvent) => void,
    onEnd: (error?: Error) => void,
  ): () => void;
  close(): void;
}

/** One channel per peer replica (by id and address), reused by every relayed stream to it. */
export function createRelayClient(
  identity: RelayIdentity,
  options: { openTimeoutMs?: number } = {},
): ReplicaRelayClient {
  const clients = new Map<string, Client>();
  const clientFor = (target: RelayTarget): Client => {
    const key = `${target.replicaId}@${target.relayAddress}`;
    let client = clients.get(key);
    if (!client) {
      client = new RelayClient(target.relayAddress, relayClientCredentials(identity, target.replicaId), {
        "grpc.enable_channelz": 0,
        "grpc.keepalive_time_ms": 20_000,
      }) as Client;
      clients.set(key, client);
    }
    return client;
  };

  return {
    openSshTunnel(target, serverId, spec) {
      const call = clientFor(target).sshTunnel();
      return new Promise<Duplex>((resolve, reject) => {
        const timer = setTimeout(() => {
          call.cancel();
          reject(
            new AppError("unavailable", "the replica holding the agent did not open the tunnel in time"),
          );
        }, options.openTimeoutMs ?? 20_000);
        call.once("data", (first: SshTunnelResponse) => {
          clearTimeout(timer);
          call.pause();
          if (first.frame.case !== "opened") {
            call.cancel();
            reject(new AppError("unavailable", "the relay answered without opening the tunnel"));
            return;
          }
          resolve(callAsDuplex(call));
        });
        call.once("error", (error: grpc.ServiceError) => {
          clearTimeout(timer);
          reject(new AppError("unavailable", error.details || "the relay to the agent's replica failed"));
        });
        call.write(
          create(SshTunnelRequestSchema, {
            frame: {
              case: "open",
              value: {
                serverId,
                sshdPort: spec.sshdPort,
                login: spec.login,
                gatewayPublicKey: spec.gatewayPublicKey,
              },
            },
          }),
        );
      });
    },
    watchCommandFeed(target, commandId, onEvent, onEnd) {
      const call = clientFor(target).watchCommandFeed(create(WatchCommandFeedRequestSchema, { commandId }));
      let ended = false;
      const end = (error?: Error) => {
        if (ended) return;
        ended = true;
        onEnd(error);
      };
      call.on("data", (message: WatchCommandFeedResponse) => {
        const event = feedEventOf(message);
        if (event) onEvent(event);
      });
      call.on("end", () => end());
      call.on("error", (error: grpc.ServiceError) =>
        end(error.code === grpc.status.CANCELLED ? undefined : error),
      );
      return () => {
        ended = true;
        call.cancel();
      };
    },
    close() {
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}

function feedEventOf(message: WatchCommandFeedResponse): FeedEvent | undefined {
  const { event } = message;
  switch (event.case) {
    case "started":
      return { kind: "started" };
    case "output":
      return {
        kind: "output",
        sequence: event.value.sequence,
        stream: event.value.stream,
        data: event.value.data,
      };
    case "finished":
      return { kind: "finished", state: event.value.state as FinalState };
    case "overflow":
      return { kind: "overflow" };
    default:
      return undefined;
  }
}

/** The relay call as a byte stream, with back-pressure both ways. */
function callAsDuplex(call: TunnelCall): Duplex {
  const duplex = new Duplex({
    read() {
      call.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      let ok = true;
      for (let offset = 0; offset < chunk.length; offset += CHUNK) {
        ok = call.write(
          create(SshTunnelRequestSchema, {
            frame: { case: "data", value: chunk.subarray(offset, offset + CHUNK) },
          }),
        );
      }
      if (ok) callback();
      else call.once("drain", () => callback());
    },
    final(callback) {
      call.end();
      callback();
    },
    destroy(error, callback) {
      call.cancel();
      callback(error);
    },
  });
  call.on("data", (message: SshTunnelResponse) => {
    if (message.frame.case !== "data") return;
    if (!duplex.push(message.frame.value)) call.pause();
  });
  call.on("end", () => duplex.push(null));
  call.on("error", (error) => duplex.destroy(error));
  call.resume();
  return duplex;
}
