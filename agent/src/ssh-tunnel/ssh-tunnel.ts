import net from "node:net";
import { create } from "@bufbuild/protobuf";
import { type OpenSshTunnel, TunnelRequestSchema } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import type { TunnelCall } from "../connection/grpc-clients.js";
import type { Logger } from "../logging/logger.js";
import { installGatewayKey, TunnelError } from "./authorized-key.js";

/** Frames on the wire stay well under the channel's message limit. */
const CHUNK = 64 * 1024;

export interface SshTunnels {
  /** Installs the gateway key, connects to sshd on loopback and opens the Tunnel call. */
  open(request: OpenSshTunnel, openTunnel: () => TunnelCall): void;
}

export function createSshTunnels(options: { logger: Logger; connectTimeoutMs?: number }): SshTunnels {
  const { logger } = options;
  return {
    open(request, openTunnel) {
      const log = logger.child({ tunnelId: request.tunnelId, login: request.login });
      prepare(request, options.connectTimeoutMs ?? 10_000).then(
        (socket) => relay(openTunnel(), request.tunnelId, socket, log),
        (error: unknown) => {
          const known = error instanceof TunnelError;
          if (!known) log.warn({ err: error }, "could not open an SSH tunnel");
          const call = openTunnel();
          call.on("error", () => {});
          call.on("data", () => {});
          call.write(
            create(TunnelRequestSchema, {
              frame: {
                case: "opened",
                value: {
                  tunnelId: request.tunnelId,
                  errorCode: known ? error.code : "tunnel_failed",
                  errorMessage: error instanceof Error ? error.message : String(error),
                },
              },
            }),
          );
          call.end();
        },
      );
    },
  };
}

async function prepare(request: OpenSshTunnel, timeoutMs: number): Promise<net.Socket> {
  const port = request.sshdPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new TunnelError("bad_request", "no sshd port");
  await installGatewayKey(request.login, request.gatewayPublicKey);
  return new Promise<net.Socket>((resolve, reject) => {
    // Keystrokes are small writes: without TCP_NODELAY, Nagle and sshd's delayed ACK hold echoes.
    const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TunnelError("sshd_unreachable", `the host's sshd did not answer on 127.0.0.1:${port}`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(
        new TunnelError(
          "sshd_unreachable",
          `the host's sshd is not reachable on 127.0.0.1:${port} (${error.message})`,
        ),
      );
    });
  });
}

/** Both directions with back-pressure: a full side pauses the other (HTTP/2 flow control does the rest). */
function relay(call: TunnelCall, tunnelId: string, socket: net.Socket, log: Logger): void {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    socket.destroy();
    call.end();
  };
  call.write(create(TunnelRequestSchema, { frame: { case: "opened", value: { tunnelId } } }));
  socket.on("data", (data: Buffer) => {
    for (let offset = 0; offset < data.length; offset += CHUNK) {
      const ok = call.write(
        create(TunnelRequestSchema, {
          frame: { case: "data", value: data.subarray(offset, offset + CHUNK) },
        }),
      );
      if (!ok) {
        socket.pause();
        call.once("drain", () => socket.resume());
      }
    }
  });
  call.on("data", (message: { data: Uint8Array }) => {
    if (!socket.write(message.data)) {
      call.pause();
      socket.once("drain", () => call.resume());
    }
  });
  socket.on("end", close);
  socket.on("close", close);
  socket.on("error", (error) => {
    log.debug({ err: error }, "sshd connection failed");
    close();
  });
  call.on("end", close);
  call.on("error", (error) => {
    log.debug({ err: error }, "tunnel call failed");
    close();
  });
}
