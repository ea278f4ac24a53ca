import * as grpc from "@grpc/grpc-js";
import type { AgentPki } from "../../platform/pki/agent-pki.js";

type CertificateProvider = grpc.experimental.CertificateProvider;

/**
 * TLS for the gateway: our certificate chain [gateway leaf, CA], and client certificates
 * REQUESTED but not REQUIRED, so enrollment (no certificate yet) and the agent stream share
 * one port. Why not `ServerCredentials.createSsl(ca, pairs, false)`: in grpc-js 1.14 that sets
 * `requestCert: false`, so the server never asks for a client certificate and every stream
 * would look anonymous; `createSsl(…, true)` instead rejects certificate-less enrollment. The
 * certificate-provider credentials set `requestCert: true, rejectUnauthorized: false`: Node
 * still verifies a presented chain against our CA, and grpc-js only exposes the peer
 * certificate in `getAuthContext()` when that verification passed (`socket.authorized`).
 * AgentService/Connect then insists on it (see connect-handler.ts).
 */
export function createGatewayCredentials(
  pki: AgentPki,
  options: { readonly handshakeTimeoutMs?: number } = {},
): grpc.ServerCredentials {
  const ca = staticProvider({ ca: { caCertificate: Buffer.from(pki.caCertificatePem) } });
  // grpc-js names the first parameter caCertificateProvider, but passes it on as the identity
  // provider (server-credentials.js); the call below follows what the code does.
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(
    gatewayIdentityProvider(pki),
    ca,
    false,
  );
  // grpc-js builds its TLS server from these options and has no setting of its own for the
  // handshake: Node's default lets a client that stops mid-handshake hold a socket for 120 s.
  const constructorOptions = credentials._getConstructorOptions.bind(credentials);
  credentials._getConstructorOptions = () => ({
    ...constructorOptions(),
    handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
    minVersion: TLS_MIN_VERSION,
  });
  return onlyTls13(credentials);
}

/** Agents are ours and speak TLS 1.3, so nothing older is offered (issue 20's hardening). */
const TLS_MIN_VERSION = "TLSv1.3";

/**
 * grpc-js replaces the TLS server's secure context with each certificate update
 * (`setSecureContext`), and a context built without `minVersion` would accept TLS 1.2 again: the
 * initial options and every update given to the server's watcher carry the minimum.
 */
function onlyTls13(credentials: grpc.ServerCredentials): grpc.ServerCredentials {
  const initial = credentials._getSecureContextOptions.bind(credentials);
  credentials._getSecureContextOptions = () => {
    const options = initial();
    return options && { ...options, minVersion: TLS_MIN_VERSION };
  };
  type Watcher = Parameters<grpc.ServerCredentials["_addWatcher"]>[0];
  const wrapped = new Map<Watcher, Watcher>();
  const add = credentials._addWatcher.bind(credentials);
  const remove = credentials._removeWatcher.bind(credentials);
  credentials._addWatcher = (watcher) => {
    const withMinimum: Watcher = (context) => watcher(context && { ...context, minVersion: TLS_MIN_VERSION });
    wrapped.set(watcher, withMinimum);
    add(withMinimum);
  };
  credentials._removeWatcher = (watcher) => {
    remove(wrapped.get(watcher) ?? watcher);
    wrapped.delete(watcher);
  };
  return credentials;
}

const identityOf = (pki: AgentPki): grpc.experimental.IdentityCertificateUpdate => ({
  certificate: Buffer.from(pki.gateway.certificateChainPem),
  privateKey: Buffer.from(pki.gateway.privateKeyPem),
});

/**
 * The gateway's certificate, following renewals: grpc-js hands each update to the TLS server's
 * `setSecureContext`, so new connections get the new certificate while established ones keep
 * the TLS session they negotiated (nothing is re-bound, no stream is dropped).
 */
function gatewayIdentityProvider(pki: AgentPki): CertificateProvider {
  const stops = new Map<grpc.experimental.IdentityCertificateUpdateListener, () => void>();
  return {
    addCaCertificateListener: () => {},
    removeCaCertificateListener: () => {},
    addIdentityCertificateListener(listener) {
      stops.get(listener)?.();
      stops.set(
        listener,
        pki.onGatewayCertificate(() => listener(identityOf(pki))),
      );
      setImmediate(() => {
        if (stops.has(listener)) listener(identityOf(pki));
      });
    },
    removeIdentityCertificateListener(listener) {
      stops.get(listener)?.();
      stops.delete(listener);
    },
  };
}

/**
 * A provider with fixed material. It answers asynchronously on purpose: grpc-js subscribes
 * while it builds the TLS server and only sees updates that arrive after it has subscribed.
 */
function staticProvider(material: { ca?: grpc.experimental.CaCertificateUpdate }): CertificateProvider {
  return {
    addCaCertificateListener: (listener) => setImmediate(() => listener(material.ca ?? null)),
    removeCaCertificateListener: () => {},
    addIdentityCertificateListener: () => {},
    removeIdentityCertificateListener: () => {},
  };
}
