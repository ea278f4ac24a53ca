import type { Duplex } from "node:stream";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  RelayService,
  type SshTunnelRequest,
  type SshTunnelResponse,
  SshTunnelResponseSchema,
  type WatchCommandFeedRequest,
  type WatchCommandFeedResponse,
  WatchCommandFeedResponseSchema,
} from "@ocore/proto/gen/ocore/relay/v1/relay_service_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import type { CommandFeed, FeedEvent } from "../../domain/commands/command-feed.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import { toServiceError } from "../agent-gateway/grpc-status.js";
import type { SshTunnels } from "../agent-gateway/ssh-tunnels.js";
import { isReplicaPeer, type RelayIdentity, relayServerCredentials } from "./relay-credentials.js";

const CHUNK = 64 * 1024;
/** Unsent feed bytes for one watcher beyond which it is dropped with `overflow`. */
const MAX_FEED_BACKLOG = 4 * 1024 * 1024;

export interface RelayServer {
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * The relay's grpc-js server: what other replicas ask of this one for the agents it holds. Each
 * RPC serves one interactive stream type from this replica's own agent streams (`tunnels` only
 * opens tunnels to agents held here) or its own command feed (`feed`: the events this replica
 * stores). A new stream type is one more RPC here and one more method in relay-client.ts.
 */
export function createRelayServer(deps: {
  readonly identity: RelayIdentity;
  readonly tunnels: Pick<SshTunnels, "open">;
  readonly feed: CommandFeed;
  readonly logger: Logger;
}): RelayServer {
  const server = new grpc.Server({ "grpc.enable_channelz": 0, "grpc.keepalive_time_ms": 20_000 });
  const refuse = (call: { emit(event: "error", error: unknown): boolean }, error: AppError) =>
    call.emit("error", toServiceError({ code: error.code, message: error.message }));

  const sshTunnel = (call: grpc.ServerDuplexStream<SshTunnelRequest, SshTunnelResponse>) => {
    if (!isReplicaPeer(call)) {
      refuse(call, new AppError("permission_denied", "the relay serves oCore replicas only"));
      return;
    }
    call.once("data", (first: SshTunnelRequest) => {
      call.pause();
      const open = first.frame.case === "open" ? first.frame.value : undefined;
      if (!open || !isUuid(open.serverId) || open.sshdPort < 1 || open.sshdPort > 65_535) {
        refuse(call, AppError.invalid("open", "the first message must open a tunnel to a server id"));
        return;
      }
      deps.tunnels
        .open(open.serverId, {
          sshdPort: open.sshdPort,
          login: open.login,
          gatewayPublicKey: open.gatewayPublicKey,
        })
        .then(
          (tunnel) => {
            call.write(create(SshTunnelResponseSchema, { frame: { case: "opened", value: {} } }));
            pipeTunnel(call, tunnel);
          },
          (error: unknown) =>
            refuse(
              call,
              error instanceof AppError
                ? error
                : new AppError("unavailable", "the tunnel could not be opened"),
            ),
        );
    });
  };

  const watchCommandFeed = (
    call: grpc.ServerWritableStream<WatchCommandFeedRequest, WatchCommandFeedResponse>,
  ) => {
    if (!isReplicaPeer(call)) {
      refuse(call, new AppError("permission_denied", "the relay serves oCore replicas only"));
      return;
    }
    const { commandId } = call.request;
    if (!isUuid(commandId)) {
      refuse(call, AppError.invalid("command_id", "must be a UUID"));
      return;
    }
    let done = false;
    const stop = deps.feed.subscribe(commandId, (event) => {
      if (done) return;
      if (call.writableLength > MAX_FEED_BACKLOG) {
        call.write(feedMessage({ kind: "overflow" }));
        finish();
        return;
      }
      call.write(feedMessage(event));
      if (event.kind === "finished") finish();
    });
    const finish = () => {
      if (done) return;
      done = true;
      stop();
      call.end();
    };
    call.once("cancelled", () => {
      done = true;
      stop();
    });
  };

  server.addService(createGrpcServiceDefinition(RelayService), { sshTunnel, watchCommandFeed });
  return {
    listen: (host, port) =>
      new Promise<number>((resolve, reject) =>
        server.bindAsync(
          `${host.includes(":") ? `[${host}]` : host}:${port}`,
          relayServerCredentials(deps.identity),
          (error, bound) => (error ? reject(error) : resolve(bound)),
        ),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

export function feedMessage(event: FeedEvent): WatchCommandFeedResponse {
  switch (event.kind) {
    case "started":
      return create(WatchCommandFeedResponseSchema, { event: { case: "started", value: {} } });
    case "output":
      return create(WatchCommandFeedResponseSchema, {
        event: {
          case: "output",
          value: { sequence: event.sequence, stream: event.stream, data: event.data },
        },
      });
    case "finished":
      return create(WatchCommandFeedResponseSchema, {
        event: { case: "finished", value: { state: event.state } },
      });
    case "overflow":
      return create(WatchCommandFeedResponseSchema, { event: { case: "overflow", value: {} } });
  }
}

/** The tunnel's bytes over the relay call, both ways, with back-pressure; either end closing ends both. */
function pipeTunnel(
  call: grpc.ServerDuplexStream<SshTunnelRequest, SshTunnelResponse>,
  tunnel: Duplex,
): void {
  call.on("data", (message: SshTunnelRequest) => {
    if (message.frame.case !== "data") return;
    if (!tunnel.write(message.frame.value)) {
      call.pause();
      tunnel.once("drain", () => call.resume());
    }
  });
  call.on("end", () => tunnel.end());
  call.on("cancelled", () => tunnel.destroy());
  call.on("error", () => tunnel.destroy());
  tunnel.on("data", (chunk: Buffer) => {
    let ok = true;
    for (let offset = 0; offset < chunk.length; offset += CHUNK) {
      ok = call.write(
        create(SshTunnelResponseSchema, {
          frame: { case: "data", value: chunk.subarray(offset, offset + CHUNK) },
        }),
      );
    }
    if (!ok) {
      tunnel.pause();
      call.once("drain", () => tunnel.resume());
    }
  });
  tunnel.on("end", () => call.end());
  tunnel.on("error", () => call.end());
  call.resume();
}
