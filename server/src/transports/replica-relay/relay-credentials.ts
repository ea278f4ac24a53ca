import type { PeerCertificate } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { REPLICA_ORGANIZATION } from "../../platform/pki/certificates.js";

/** This replica's relay identity: its certificate (from the installation's CA), its key, the CA. */
export interface RelayIdentity {
  readonly replicaId: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly caCertificatePem: string;
}

/**
 * The relay's server side: a client certificate is REQUIRED and must chain to the installation's
 * CA (Node checks it); the handlers then insist on a replica certificate (`isReplicaPeer`), since
 * agents hold certificates from the same CA.
 */
export function relayServerCredentials(identity: RelayIdentity): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(
    Buffer.from(identity.caCertificatePem),
    [{ private_key: Buffer.from(identity.privateKeyPem), cert_chain: Buffer.from(identity.certificatePem) }],
    true,
  );
}

/**
 * The relay's client side: our replica certificate, the CA as the only root, and instead of a
 * host name check (replicas are dialled by address) the peer must present a replica
 * certificate for the replica id the presence table named.
 */
export function relayClientCredentials(
  identity: RelayIdentity,
  expectReplicaId: string,
): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    Buffer.from(identity.caCertificatePem),
    Buffer.from(identity.privateKeyPem),
    Buffer.from(identity.certificatePem),
    {
      checkServerIdentity: (_host: string, certificate: PeerCertificate) => {
        if (certificate.subject?.O !== REPLICA_ORGANIZATION) {
          return new Error("the relay peer did not present an oCore replica certificate");
        }
        if (certificate.subject.CN !== expectReplicaId) {
          return new Error(`the relay peer is replica ${certificate.subject.CN}, not ${expectReplicaId}`);
        }
        return undefined;
      },
    },
  );
}

/** True when the verified client certificate of a relay call is a replica's (not an agent's). */
export function isReplicaPeer(call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } }): boolean {
  const certificate = call.getAuthContext()?.sslPeerCertificate;
  return certificate?.subject?.O === REPLICA_ORGANIZATION && typeof certificate.subject.CN === "string";
}
