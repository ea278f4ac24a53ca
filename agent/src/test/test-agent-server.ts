import { randomBytes, X509Certificate } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  AgentService,
  type ConnectRequest,
  type ConnectResponse,
  ConnectResponseSchema,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import {
  EnrollmentService,
  type EnrollRequest,
  type EnrollResponse,
  EnrollResponseSchema,
} from "@ocore/proto/gen/ocore/agent/v1/enrollment_service_pb.js";
import type { HostSample } from "@ocore/proto/gen/ocore/agent/v1/metrics_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import { caPinOfPem } from "../identity/ca-pin.js";
import { issueServerCertificate, signClientCsr, type TestCa } from "./test-pki.js";

/** What the test "server" remembers across restarts, like a database would. */
export interface TestServerStore {
  /** Committed samples by sequence: a replayed duplicate does not add a second entry. */
  readonly samples: Map<bigint, HostSample>;
  /** Every stream: the client certificate's CN and what it sent, in order. */
  readonly connections: Array<{ commonName: string; received: ConnectRequest[]; call: Call }>;
  readonly enrollCalls: EnrollRequest[];
  duplicates: number;
}

type Call = grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>;

export function createTestServerStore(): TestServerStore {
  return { samples: new Map(), connections: [], enrollCalls: [], duplicates: 0 };
}

export interface TestAgentServer {
  readonly port: number;
  readonly caPin: string;
  /** A fresh token text for this server's CA. */
  token(): string;
  send(call: Call, payload: ConnectResponse["payload"]): void;
  close(): void;
}

/**
 * A loopback control server for agent tests: the real grpc-js stack with mutual TLS, serving
 * AgentService/Connect and EnrollmentService/Enroll from the contract, signing with a test CA.
 */
export async function startTestAgentServer(options: {
  ca: TestCa;
  store: TestServerStore;
  serverId?: string;
  port?: number;
  intervalSeconds?: number;
  ack?: boolean;
  /** Lifetime of certificates issued at enrollment (renewals always get 30 days). */
  enrollLifetimeMs?: number;
}): Promise<TestAgentServer> {
  const { ca, store } = options;
  const serverId = options.serverId ?? "7d9e8f0a-1b2c-4d3e-8f4a-5b6c7d8e9f00";
  const tlsCertificate = await issueServerCertificate(ca);
  const server = new grpc.Server();

  server.addService(createGrpcServiceDefinition(EnrollmentService), {
    enroll(
      call: grpc.ServerUnaryCall<EnrollRequest, EnrollResponse>,
      callback: grpc.sendUnaryData<EnrollResponse>,
    ) {
      store.enrollCalls.push(call.request);
      const notBefore = new Date(Date.now() - 60_000);
      const notAfter = new Date(Date.now() + (options.enrollLifetimeMs ?? 30 * 86_400_000));
      signClientCsr(ca, call.request.csrPem, { serverId, notBefore, notAfter }).then(
        (certificatePem) =>
          callback(
            null,
            create(EnrollResponseSchema, {
              serverId,
              certificatePem,
              caCertificatePem: ca.certificatePem,
              notAfter: timestampFromDate(notAfter),
            }),
          ),
        (error: Error) => callback({ code: grpc.status.INVALID_ARGUMENT, details: error.message }),
      );
    },
  });

  const send = (call: Call, payload: ConnectResponse["payload"]) =>
    call.write(create(ConnectResponseSchema, { payload }));

  server.addService(createGrpcServiceDefinition(AgentService), {
    connect(call: Call) {
      const peer = call.getAuthContext().sslPeerCertificate;
      const commonName = String(peer?.subject?.CN ?? "");
      if (!commonName) {
        call.destroy(
          Object.assign(new Error("a client certificate is required"), { code: grpc.status.UNAUTHENTICATED }),
        );
        return;
      }
      const connection = { commonName, received: [] as ConnectRequest[], call };
      store.connections.push(connection);
      call.on("data", (message: ConnectRequest) => {
        connection.received.push(message);
        const { payload } = message;
        if (payload.case === "hello") {
          send(call, {
            case: "welcome",
            value: { serverId: commonName, metricsIntervalSeconds: options.intervalSeconds ?? 1 },
          } as never);
        } else if (payload.case === "metricBatch" && options.ack !== false) {
          for (const sample of payload.value.samples) {
            if (store.samples.has(sample.sequence)) store.duplicates++;
            else store.samples.set(sample.sequence, sample);
          }
          send(call, {
            case: "metricsAck",
            value: { sequences: payload.value.samples.map((sample) => sample.sequence) },
          } as never);
        } else if (payload.case === "ping") {
          // Like the real gateway: the agent probes a quiet stream and gives it up unanswered.
          send(call, { case: "pong", value: { nonce: payload.value.nonce } } as never);
        } else if (payload.case === "renewCertificate") {
          signClientCsr(ca, payload.value.csrPem, { serverId: commonName }).then((certificatePem) =>
            send(call, {
              case: "certificateRenewed",
              value: {
                certificatePem,
                notAfter: timestampFromDate(new Date(new X509Certificate(certificatePem).validTo)),
              },
            } as never),
          );
        }
      });
      call.on("end", () => call.end());
      call.on("error", () => undefined);
    },
  });

  // One port for both services: client certificates are requested but not required at the TLS
  // layer (Enroll has none yet); Connect refuses a stream without one.
  // grpc-js registers its watcher after adding the listener: updates must come asynchronously.
  const provider: grpc.experimental.CertificateProvider = {
    addCaCertificateListener: (listener) =>
      setImmediate(() => listener({ caCertificate: Buffer.from(ca.certificatePem) })),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (listener) =>
      setImmediate(() =>
        listener({
          // The chain the gateway presents: [leaf, CA], so enrollment can pin the CA.
          certificate: Buffer.from(tlsCertificate.certificatePem + ca.certificatePem),
          privateKey: Buffer.from(tlsCertificate.keyPem),
        }),
      ),
    removeIdentityCertificateListener: () => undefined,
  };
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, credentials, (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  const caPin = caPinOfPem(ca.certificatePem);
  return {
    port,
    caPin,
    token: () => `oce1.${randomBytes(32).toString("base64url")}.${caPin}`,
    send,
    close: () => server.forceShutdown(),
  };
}
