import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  AgentService,
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
  ConnectResponseSchema,
} from "../gen/ocore/agent/v1/agent_service_pb.js";
import { SystemService } from "../gen/ocore/api/v1/system_service_pb.js";
import { createGrpcServiceDefinition } from "./service-definition.js";

describe("createGrpcServiceDefinition", () => {
  it("describes each method with its full path and streaming kinds", () => {
    const agent = createGrpcServiceDefinition(AgentService);
    expect(agent.connect.path).toBe("/ocore.agent.v1.AgentService/Connect");
    expect(agent.connect.originalName).toBe("Connect");
    expect(agent.connect.requestStream).toBe(true);
    expect(agent.connect.responseStream).toBe(true);

    const system = createGrpcServiceDefinition(SystemService);
    expect(system.getInfo.path).toBe("/ocore.api.v1.SystemService/GetInfo");
    expect(system.getInfo.requestStream).toBe(false);
    expect(system.getInfo.responseStream).toBe(false);
  });

  it("serializes and deserializes messages, oneofs included", () => {
    const { connect } = createGrpcServiceDefinition(AgentService);
    const request = create(ConnectRequestSchema, {
      payload: { case: "hello", value: { agentVersion: "1.2.3", hostname: "db-1", kernel: "6.1.0" } },
    });
    const bytes = connect.requestSerialize(request);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    const back = connect.requestDeserialize(bytes);
    expect(back.payload.case).toBe("hello");
    expect(back.payload.case === "hello" && back.payload.value.hostname).toBe("db-1");
  });

  it("rejects bytes that are not the method's message", () => {
    const { connect } = createGrpcServiceDefinition(AgentService);
    expect(() => connect.requestDeserialize(Buffer.from([0xff, 0xff, 0xff]))).toThrow();
  });
});

describe("a real grpc-js server and client built from the definition", () => {
  let server: grpc.Server | undefined;
  afterEach(() => {
    server?.forceShutdown();
    server = undefined;
  });

  it("carries a bidirectional stream in both directions", async () => {
    const definition = createGrpcServiceDefinition(AgentService);
    server = new grpc.Server();
    server.addService(definition, {
      connect(call: grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>) {
        call.on("data", (message: ConnectRequest) => {
          if (message.payload.case === "ping") {
            call.write(
              create(ConnectResponseSchema, {
                payload: { case: "pong", value: { nonce: message.payload.value.nonce } },
              }),
            );
          } else if (message.payload.case === "hello") {
            call.write(
              create(ConnectResponseSchema, { payload: { case: "welcome", value: { serverId: "s-1" } } }),
            );
          }
        });
        call.on("end", () => call.end());
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server?.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
        error ? reject(error) : resolve(boundPort),
      ),
    );

    const Client = grpc.makeGenericClientConstructor(definition, "AgentService");
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const stream = client.connect!() as grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>;
    const received: ConnectResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on("data", (message: ConnectResponse) => received.push(message));
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    stream.write(create(ConnectRequestSchema, { payload: { case: "hello", value: { hostname: "h" } } }));
    stream.write(create(ConnectRequestSchema, { payload: { case: "ping", value: { nonce: 42n } } }));
    stream.end();
    await done;
    client.close();

    expect(received.map((m) => m.payload.case)).toEqual(["welcome", "pong"]);
    const pong = received[1]?.payload;
    expect(pong?.case === "pong" && pong.value.nonce).toBe(42n);
  });
});
