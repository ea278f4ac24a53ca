// One load-generator process of the command fan-out benchmark (forked by main.ts): its share of
// the simulated agents, each with its own grpc-js channel and mTLS identity, speaking the real
// protocol (Hello → Welcome, Ping → Pong) and running commands with the agent's real executor
// (agent/dist/commands), recent ids kept in memory (a real agent fsyncs them to its state dir).

import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  createCommandExecutor,
  createCommandOutbox,
  openRecentCommands,
  streamOutboxWriter,
} from "@ocore/agent/testing";
import {
  AgentService,
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import { pino } from "pino";
import type { AgentIdentity } from "../agent-fleet/identities.ts";
import { produceOutput, runProgram, scriptRunEcho } from "./bench-handlers.ts";

export interface FanoutWorkerPlan {
  address: string;
  caPem: string;
  agents: AgentIdentity[];
  connectConcurrency: number;
}

const Client = grpc.makeGenericClientConstructor(createGrpcServiceDefinition(AgentService), "Agent");
const logger = pino({ level: "warn" });
const calls: Array<{ call: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>; client: grpc.Client }> =
  [];
let plan: FanoutWorkerPlan;
let connected = 0;
let exiting = false;
const errors: string[] = [];

async function connectOne(identity: AgentIdentity): Promise<void> {
  const outbox = createCommandOutbox();
  const executor = createCommandExecutor({
    handlers: [produceOutput, runProgram, scriptRunEcho],
    recent: await openRecentCommands(),
    outbox,
    logger,
  });
  await new Promise<void>((resolve) => {
    const client = new Client(
      plan.address,
      grpc.credentials.createSsl(
        Buffer.from(plan.caPem),
        Buffer.from(identity.keyPem),
        Buffer.from(identity.certPem),
      ),
      {
        "grpc.use_local_subchannel_pool": 1,
        "grpc.ssl_target_name_override": "localhost",
        "grpc.keepalive_time_ms": 60_000,
      },
    );
    const call = (
      client as unknown as { connect(): grpc.ClientDuplexStream<ConnectRequest, ConnectResponse> }
    ).connect();
    calls.push({ call, client });
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      if (errors.length < 5) errors.push(why);
      resolve();
    };
    call.on("error", (error: Error) => fail(error.message));
    call.on("status", (status: grpc.StatusObject) => {
      // An agent whose stream ends mid-run is no longer measured: say so.
      if (settled && !exiting) {
        console.error(
          `[agent ${identity.serverId.slice(0, 8)}] stream ended: ${status.code} ${status.details}`,
        );
      }
    });
    call.on("data", (message: ConnectResponse) => {
      const { payload } = message;
      if (payload.case === "welcome" && !settled) {
        settled = true;
        connected += 1;
        outbox.attach(
          streamOutboxWriter(
            (next) => call.write(create(ConnectRequestSchema, { payload: next })),
            () => new Promise((done) => call.once("drain", done)),
            payload.value.commandEventBatches,
          ),
        );
        resolve();
      } else if (payload.case === "command") {
        executor.receive(payload.value);
      } else if (payload.case === "cancelCommand") {
        executor.cancel(payload.value.commandId, payload.value.reason);
      } else if (payload.case === "ping") {
        call.write(
          create(ConnectRequestSchema, { payload: { case: "pong", value: { nonce: payload.value.nonce } } }),
        );
      }
    });
    call.write(
      create(ConnectRequestSchema, {
        payload: {
          case: "hello",
          value: { agentVersion: "0.1.0-bench", hostname: `bench-${identity.serverId.slice(0, 8)}` },
        },
      }),
    );
  });
}

let profiler: Session | undefined;

process.on("message", async (message: { type: string; plan?: FanoutWorkerPlan; file?: string }) => {
  if (message.type === "profile-start") {
    profiler = new Session();
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.start");
    process.send?.({ type: "profiling" });
  } else if (message.type === "profile-stop" && profiler && message.file) {
    const { profile } = await profiler.post("Profiler.stop");
    writeFileSync(message.file, JSON.stringify(profile));
    profiler.disconnect();
    profiler = undefined;
    process.send?.({ type: "profiled" });
  } else if (message.type === "connect" && message.plan) {
    plan = message.plan;
    let next = 0;
    const lane = async () => {
      while (next < plan.agents.length) await connectOne(plan.agents[next++] as AgentIdentity);
    };
    await Promise.all(Array.from({ length: plan.connectConcurrency }, lane));
    process.send?.({ type: "connected", connected, errors });
  } else if (message.type === "stopping") {
    exiting = true;
    process.send?.({ type: "stopping" });
  } else if (message.type === "exit") {
    exiting = true;
    for (const { call, client } of calls) {
      call.end();
      client.close();
    }
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
