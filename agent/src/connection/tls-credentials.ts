import { isIP, type Socket } from "node:net";
import { connect, createSecureContext, type SecureContext } from "node:tls";
import * as grpc from "@grpc/grpc-js";

/** What the agent trusts and, once enrolled, proves itself with. */
export interface AgentTlsMaterial {
  readonly caPem: string;
  readonly keyPem?: string;
  readonly certificatePem?: string;
}

/**
 * TLS channel credentials for the agent's gRPC channel. Like grpc-js's own `createSsl` (only our
 * CA as trust anchor, the certificate checked against the address's host, ALPN h2), except that
 * the TLS ServerName (SNI) is sent only for a DNS name: RFC 6066 forbids an IP address there, and
 * Node warns (DEP0123) on every start of an agent whose gateway address is an IP. Without a
 * ServerName, Node checks the certificate against the connected host, so an IP address must be
 * in the certificate's IP SANs, as before.
 */
export function createAgentTlsCredentials(host: string, material: AgentTlsMaterial): grpc.ChannelCredentials {
  const secureContext = createSecureContext({
    ca: material.caPem,
    key: material.keyPem,
    cert: material.certificatePem,
  });
  return new AgentTlsCredentials(host, secureContext);
}

class AgentTlsCredentials extends grpc.ChannelCredentials {
  constructor(
    private readonly host: string,
    private readonly secureContext: SecureContext,
  ) {
    super();
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(
    _target: unknown,
    _options: unknown,
    callCredentials?: grpc.CallCredentials,
  ): ReturnType<grpc.ChannelCredentials["_createSecureConnector"]> {
    const { host, secureContext } = this;
    const calls = callCredentials ?? grpc.credentials.createEmpty();
    return {
      connect: (socket: Socket) => secureConnect(socket, host, secureContext),
      waitForReady: async () => {},
      getCallCredentials: () => calls,
      destroy: () => {},
    };
  }
}

/** TLS over an open TCP socket; resolves once the server's certificate verified for `host`. */
export function secureConnect(
  socket: Socket,
  host: string,
  secureContext: SecureContext,
): Promise<{ socket: Socket; secure: true }> {
  return new Promise((resolve, reject) => {
    const tlsSocket = connect(
      {
        socket,
        secureContext,
        host,
        ...(isIP(host) === 0 ? { servername: host } : {}),
        ALPNProtocols: ["h2"],
      },
      () => {
        if (!tlsSocket.authorized) {
          tlsSocket.destroy();
          reject(tlsSocket.authorizationError);
          return;
        }
        tlsSocket.removeListener("error", reject);
        resolve({ socket: tlsSocket, secure: true });
      },
    );
    tlsSocket.once("error", reject);
  });
}
