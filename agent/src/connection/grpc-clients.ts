import * as grpc from "@grpc/grpc-js";
import {
  AgentService,
  type ConnectRequest,
  type ConnectResponse,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import {
  EnrollmentService,
  type EnrollRequest,
  type EnrollResponse,
} from "@ocore/proto/gen/ocore/agent/v1/enrollment_service_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import type { Identity } from "../identity/identity-store.js";
import type { ServerAddress } from "./server-address.js";
import { createAgentTlsCredentials } from "./tls-credentials.js";

export type AgentStream = grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>;

const channelOptions: grpc.ChannelOptions = {
  // A ping every 30 s finds a dead path (NAT timeout, server gone without FIN) within ~40 s.
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  // The stream is idle between samples; keep probing even with no message in flight.
  "grpc.keepalive_permit_without_calls": 1,
  // Our own backoff (connection/backoff.ts) decides when to retry, not the channel's.
  "grpc.initial_reconnect_backoff_ms": 1000,
  "grpc.max_reconnect_backoff_ms": 1000,
};

const grpcTarget = (address: ServerAddress) =>
  address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;

/**
 * Opens AgentService/Connect with mutual TLS: our key and certificate, and only the oCore CA as
 * trust anchor (never the system store). The server's certificate is checked against the
 * address's host (a DNS name, or an IP address in its IP SANs). Close the returned client when the stream is over.
 */
export function openAgentStream(
  address: ServerAddress,
  identity: Identity,
): { stream: AgentStream; close(): void } {
  const definition = createGrpcServiceDefinition(AgentService);
  const Client = grpc.makeGenericClientConstructor(definition, "AgentService");
  const credentials = createAgentTlsCredentials(address.host, {
    caPem: identity.caPem,
    keyPem: identity.keyPem,
    certificatePem: identity.certificatePem,
  });
  const client = new Client(grpcTarget(address), credentials, channelOptions);
  const method = definition.connect;
  const stream = client.makeBidiStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
  ) as AgentStream;
  return { stream, close: () => client.close() };
}

/** Calls EnrollmentService/Enroll over server-authenticated TLS, trusting only `caPem`. */
export function callEnroll(
  address: ServerAddress,
  caPem: string,
  request: EnrollRequest,
  timeoutMs = 30_000,
): Promise<EnrollResponse> {
  const definition = createGrpcServiceDefinition(EnrollmentService);
  const Client = grpc.makeGenericClientConstructor(definition, "EnrollmentService");
  const client = new Client(
    grpcTarget(address),
    createAgentTlsCredentials(address.host, { caPem }),
    channelOptions,
  );
  const method = definition.enroll;
  return new Promise<EnrollResponse>((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error, response) => (error || !response ? reject(error) : resolve(response)),
    );
  }).finally(() => client.close());
}
