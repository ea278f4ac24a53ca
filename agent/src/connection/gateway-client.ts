import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import * as grpc from "@grpc/grpc-js";
import {
  createGrpcServiceDefinition,
  type GrpcServiceDefinition,
} from "@ocore/proto/grpc/service-definition.js";
import type { ServerAddress } from "./server-address.js";
import { type AgentTlsMaterial, createAgentTlsCredentials } from "./tls-credentials.js";

/**
 * How every channel to the agent gateway behaves: the agent stream and the side RPCs (enrollment,
 * backup transfer, release download) alike, so a long backup upload over a dead path fails as
 * fast as the stream does.
 */
export const gatewayChannelOptions: grpc.ChannelOptions = {
  // A ping every 30 s finds a dead path (NAT timeout, server gone without FIN) within ~40 s.
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  // The stream is idle between samples; keep probing even with no message in flight.
  "grpc.keepalive_permit_without_calls": 1,
  // Our own backoff (connection/backoff.ts) decides when to retry, not the channel's.
  "grpc.initial_reconnect_backoff_ms": 1000,
  "grpc.max_reconnect_backoff_ms": 1000,
  // HTTP/2 receive window per stream and connection (64 KB by default): an SSH tunnel's upload
  // (scp to the host) moves a few frames per round trip instead of one (decision 0210).
  "grpc-node.flow_control_window": 1024 * 1024,
};

/** The gateway's address as a grpc-js target (`host:port`, `[v6]:port`). */
export function gatewayTarget(address: ServerAddress): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * What the agent trusts and shows. Only the oCore CA is a trust anchor (never the system store);
 * with a key and certificate the channel is mutual TLS, without them (enrollment, before the
 * agent has a certificate) it is server-authenticated TLS.
 */
export type GatewayTrust = AgentTlsMaterial;

/** One channel to the gateway for one service; close it when the call is over. */
export interface GatewayClient<Methods extends GenServiceMethods> {
  readonly client: grpc.Client;
  readonly methods: GrpcServiceDefinition<Methods>;
  close(): void;
}

/**
 * Opens a channel to the agent gateway for `service`. The server's certificate is checked
 * against the address's host name (tls-credentials.ts: no SNI for an IP address).
 */
export function openGatewayClient<Methods extends GenServiceMethods>(
  service: GenService<Methods>,
  address: ServerAddress,
  trust: GatewayTrust,
): GatewayClient<Methods> {
  const methods = createGrpcServiceDefinition(service);
  const credentials = createAgentTlsCredentials(address.host, trust);
  const client = new grpc.Client(gatewayTarget(address), credentials, gatewayChannelOptions);
  return { client, methods, close: () => client.close() };
}
