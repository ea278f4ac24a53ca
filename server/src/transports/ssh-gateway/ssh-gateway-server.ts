import net, { type AddressInfo, type Socket } from "node:net";
import ssh2 from "ssh2";
import { serveConnection } from "./gateway-connection.js";
import type { GatewayDeps, JumpRequest } from "./gateway-deps.js";
import { JumpSocket } from "./jump-socket.js";

const JUMP = "ocore-proxyjump";

/**
 * Ciphers offered to clients, AES-GCM first and without chacha20-poly1305: OpenSSH prefers
 * chacha20, which ssh2 runs in JavaScript (its native binding is not built here) at a fraction
 * of the speed of OpenSSL's AES-GCM, and it is what capped the gateway's throughput (decision 0210).
 */
const GATEWAY_CIPHERS = [
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
] as ssh2.CipherAlgorithm[];

export interface SshGatewayServer {
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * The SSH gateway's listener: stock OpenSSH clients connect with `user+server[+login]`; each
 * connection is served by gateway-connection.ts. Agent and X11 forwarding and -R are refused.
 */
export function createSshGatewayServer(base: GatewayDeps, hostPrivateKey: string): SshGatewayServer {
  const connections = new Set<ssh2.Connection>();
  // Nested ProxyJump connections are injected as sockets; their family marks them and their
  // port is the key of what the outer connection established.
  const jumps = new Map<number, JumpRequest>();
  let nextJump = 1;
  const deps: GatewayDeps = {
    ...base,
    jump(channel, request) {
      const id = nextJump++;
      jumps.set(id, request);
      const socket = new JumpSocket(channel, {
        remoteAddress: request.clientAddress,
        remotePort: id,
        remoteFamily: JUMP,
      });
      server.injectSocket(socket as unknown as Socket);
    },
  };
  const server = new ssh2.Server(
    {
      hostKeys: [hostPrivateKey],
      ident: "oCore-gateway",
      keepaliveInterval: 30_000,
      algorithms: { cipher: GATEWAY_CIPHERS },
    } as ssh2.ServerConfig,
    (client, info) => {
      connections.add(client);
      const key = `${info.ip}|${info.port}`;
      client.once("ready", () => {
        clearTimeout(unauthenticated.get(key));
        unauthenticated.delete(key);
      });
      client.on("close", () => connections.delete(client));
      const jump = info.family === JUMP ? jumps.get(info.port) : undefined;
      if (jump) jumps.delete(info.port);
      serveConnection(deps, client, info, jump);
    },
  );
  // Sockets arrive here first: one that has not finished its handshake and authentication
  // within the login grace time (like OpenSSH's LoginGraceTime) is destroyed, so clients that
  // send nothing, or only an ident, cannot hold sockets (slowloris). Keyed by address and port,
  // as ssh2 reports them to the connection callback. Every socket has TCP_NODELAY (ssh2's own
  // listener leaves Nagle on): a keystroke's echo is a small write after a small read, and with
  // Nagle plus the client's delayed ACK it waited ~40 ms per hop (decision 0210).
  const graceMs = (base.limits.loginGraceSeconds ?? 60) * 1000;
  const unauthenticated = new Map<string, NodeJS.Timeout>();
  const front = net.createServer({ noDelay: true }, (socket) => {
    const key = `${socket.remoteAddress}|${socket.remotePort}`;
    unauthenticated.set(
      key,
      setTimeout(() => socket.destroy(), graceMs),
    );
    socket.once("close", () => {
      clearTimeout(unauthenticated.get(key));
      unauthenticated.delete(key);
    });
    server.injectSocket(socket);
  });
  return {
    listen(host, port) {
      return new Promise<number>((resolve, reject) => {
        front.once("error", reject);
        front.listen(port, host, () => {
          front.removeListener("error", reject);
          resolve((front.address() as AddressInfo).port);
        });
      });
    },
    close() {
      for (const client of connections) client.end();
      return new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}
