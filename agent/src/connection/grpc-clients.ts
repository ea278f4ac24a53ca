import * as grpc from "@grpc/grpc-js";
import {
  AgentService,
  type ConnectRequest,
  type ConnectResponse,
  type TunnelRequest,
  type TunnelResponse,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import {
  EnrollmentService,
  type EnrollRequest,
  type EnrollResponse,
} from "@ocore/proto/gen/ocore/agent/v1/enrollment_service_pb.js";
import type { Identity } from "../identity/identity-store.js";
import { openGatewayClient } from "./gateway-client.js";
import type { ServerAddress } from "./server-address.js";

export type AgentStream = grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>;
export type TunnelCall = grpc.ClientDuplexStream<TunnelRequest, TunnelResponse>;

/**
 * Opens AgentService/Connect with mutual TLS: our key and certificate, and only the oCore CA as
 * trust anchor (never the system store). The server's certificate is checked against the
 * address's host name. Close the returned client when the stream is over.
 */
export function openAgentStream(
  address: ServerAddress,
  identity: Identity,
): { stream: AgentStream; openTunnel(): TunnelCall; close(): void } {
  const { client, methods, close } = openGatewayClient(AgentService, address, identity);
  const method = methods.connect;
  const stream = client.makeBidiStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
  ) as AgentStream;
  // A Tunnel call goes on the same channel, so the same mutual-TLS connection: its own HTTP/2 stream.
  const openTunnel = () =>
    client.makeBidiStreamRequest(
      methods.tunnel.path,
      methods.tunnel.requestSerialize,
      methods.tunnel.responseDeserialize,
    ) as TunnelCall;
  return { stream, openTunnel, close };
}

/** Calls EnrollmentService/Enroll over server-authenticated TLS, trusting only `caPem`. */
export function callEnroll(
  address: ServerAddress,
  caPem: string,
  request: EnrollRequest,
  timeoutMs = 30_000,
): Promise<EnrollResponse> {
  const { client, methods, close } = openGatewayClient(EnrollmentService, address, { caPem });
  const method = methods.enroll;
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
  }).finally(close);
}
