import type { AddressInfo } from "node:net";
import ssh2 from "ssh2";
import { serveConnection } from "./gateway-connection.js";
import type { GatewayDeps } from "./gateway-deps.js";

export interface SshGatewayServer {
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * The SSH gateway's listener: stock OpenSSH clients connect with `user+server[+login]`; each
 * connection is served by gateway-connection.ts. Agent and X11 forwarding and -R are refused.
 */
export function createSshGatewayServer(deps: GatewayDeps, hostPrivateKey: string): SshGatewayServer {
  const connections = new Set<ssh2.Connection>();
  const server = new ssh2.Server(
    { hostKeys: [hostPrivateKey], ident: "oCore-gateway", keepaliveInterval: 30_000 } as ssh2.ServerConfig,
    (client, info) => {
      connections.add(client);
      client.on("close", () => connections.delete(client));
      serveConnection(deps, client, info);
    },
  );
  // A client that never finishes its handshake must not hold a socket for ever.
  server.on("connection", () => {});
  return {
    listen(host, port) {
      return new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.removeListener("error", reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      for (const client of connections) client.end();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
