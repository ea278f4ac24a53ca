// One load-generator process of the reconnect-storm benchmark (forked by storm.ts): its share of
// simulated agents, each with its own grpc-js channel and mTLS identity, that behave like the
// real agent's link: Hello → Welcome, Pong to every Ping, and when the stream fails, reconnect
// after a full-jitter backoff (1 s doubling up to the cap, reset after a connection that lasted
// 60 s; agent/src/connection/backoff.ts and agent-link.ts).

import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  AgentService,
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import type { AgentIdentity } from "./identities.ts";
import { benchHello } from "./samples.ts";

export interface StormWorkerPlan {
  address: string;
  caPem: string;
  agents: AgentIdentity[];
  connectConcurrency: number;
  backoffCapMs: number;
}

const Client = grpc.makeGenericClientConstructor(createGrpcServiceDefinition(AgentService), "Agent");

interface Agent {
  identity: AgentIdentity;
  client?: grpc.Client;
  live: boolean;
  failures: number;
  connectedAt: number;
}

let plan: StormWorkerPlan;
const agents: Agent[] = [];
let live = 0;
let attempts = 0;
let stopping = false;

/** Opens one stream; resolves true at Welcome, false when it failed first. Reconnects on failure. */
function connectOne(agent: Agent): Promise<boolean> {
  attempts++;
  return new Promise((resolve) => {
    const { identity } = agent;
    const credentials = grpc.credentials.createSsl(
      Buffer.from(plan.caPem),
      Buffer.from(identity.keyPem),
      Buffer.from(identity.certPem),
    );
    const client = new Client(plan.address, credentials, {
      "grpc.use_local_subchannel_pool": 1,
      "grpc.ssl_target_name_override": "localhost",
      "grpc.keepalive_time_ms": 30_000,
      "grpc.keepalive_timeout_ms": 10_000,
      "grpc.initial_reconnect_backoff_ms": 1000,
      "grpc.max_reconnect_backoff_ms": 1000,
    });
    const call = (
      client as unknown as { connect(): grpc.ClientDuplexStream<ConnectRequest, ConnectResponse> }
    ).connect();
    agent.client = client;
    let settled = false;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      client.close();
      if (agent.live) {
        agent.live = false;
        live--;
        if (Date.now() - agent.connectedAt >= 60_000) agent.failures = 0;
      }
      if (!settled) {
        settled = true;
        resolve(false);
      }
      if (stopping) return;
      const ceiling = Math.min(plan.backoffCapMs, 1000 * 2 ** Math.min(agent.failures, 30));
      agent.failures++;
      setTimeout(() => void connectOne(agent), Math.floor(Math.random() * ceiling));
    };
    call.on("error", end);
    call.on("status", end);
    call.on("end", end);
    call.on("data", (message: ConnectResponse) => {
      const payload = message.payload;
      if (payload.case === "welcome" && !settled) {
        settled = true;
        agent.live = true;
        agent.connectedAt = Date.now();
        live++;
        resolve(true);
      } else if (payload.case === "ping") {
        call.write(
          create(ConnectRequestSchema, { payload: { case: "pong", value: { nonce: payload.value.nonce } } }),
        );
      }
    });
    // The Hello the fleet benchmark's agents send (the gateway refuses one without host facts).
    call.write(
      create(ConnectRequestSchema, {
        payload: { case: "hello", value: benchHello(`storm-${identity.serverId.slice(0, 8)}`) },
      }),
    );
  });
}

async function connectAll() {
  let next = 0;
  const lane = async () => {
    while (next < agents.length) {
      const agent = agents[next++] as Agent;
      await connectOne(agent);
    }
  };
  await Promise.all(Array.from({ length: plan.connectConcurrency }, lane));
}

process.on("message", async (message: { type: string; plan?: StormWorkerPlan }) => {
  if (message.type === "connect" && message.plan) {
    plan = message.plan;
    for (const identity of plan.agents) agents.push({ identity, live: false, failures: 0, connectedAt: 0 });
    await connectAll();
    process.send?.({ type: "connected", live });
  } else if (message.type === "count") {
    process.send?.({ type: "count", live, attempts });
  } else if (message.type === "exit") {
    stopping = true;
    for (const agent of agents) agent.client?.close();
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
