// One load-generator process of the fleet benchmark (forked by main.ts): runs its share of the
// simulated agents, each with its own grpc-js channel and mTLS identity, speaking the real
// protocol: Hello → Welcome, then a HostSample batch every interval with increasing sequences,
// answered by MetricsAck; server pings are answered with Pong.

import { monitorEventLoopDelay } from "node:perf_hooks";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  AgentService,
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import type { AgentIdentity } from "./identities.ts";
import { type BenchSample, benchHello, benchSample } from "./samples.ts";

export interface WorkerPlan {
  address: string;
  caPem: string;
  agents: AgentIdentity[];
  intervalMs: number;
  connectConcurrency: number;
}

export interface WorkerResult {
  connected: number;
  failed: number;
  errors: string[];
  /** serverId → the last sequence sent. */
  sent: Record<string, number>;
  acked: number;
  duplicateAcks: number;
  /** collected_at → MetricsAck received, ms, one per acknowledged sample. */
  lagsMs: number[];
  /** This load process's own event-loop delay while sending (it inflates the measured lag). */
  loopDelayP99Ms: number;
}

const Client = grpc.makeGenericClientConstructor(createGrpcServiceDefinition(AgentService), "Agent");
const u64 = (value: number) => BigInt(Math.round(value));

function toWire(sample: BenchSample) {
  return {
    ...sample,
    sequence: BigInt(sample.sequence),
    collectedAt: timestampFromDate(sample.collectedAt),
    memory: Object.fromEntries(Object.entries(sample.memory).map(([k, v]) => [k, u64(v)])),
    filesystems: sample.filesystems.map((f) => ({
      ...f,
      totalBytes: u64(f.totalBytes),
      usedBytes: u64(f.usedBytes),
      availableBytes: u64(f.availableBytes),
    })),
    docker: {
      ...sample.docker,
      containers: sample.docker.containers.map((c) => ({
        ...c,
        memoryBytes: u64(c.memoryBytes),
        memoryLimitBytes: u64(c.memoryLimitBytes),
      })),
    },
  };
}

interface Agent {
  identity: AgentIdentity;
  call?: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>;
  client?: grpc.Client;
  sequence: number;
  pending: Map<bigint, number>;
  timer?: NodeJS.Timeout;
}

const result: WorkerResult = {
  connected: 0,
  failed: 0,
  errors: [],
  sent: {},
  acked: 0,
  duplicateAcks: 0,
  lagsMs: [],
  loopDelayP99Ms: 0,
};
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
const agents: Agent[] = [];
let plan: WorkerPlan;

function connectOne(agent: Agent): Promise<void> {
  return new Promise((resolve) => {
    const { identity } = agent;
    const credentials = grpc.credentials.createSsl(
      Buffer.from(plan.caPem),
      Buffer.from(identity.keyPem),
      Buffer.from(identity.certPem),
    );
    const client = new Client(plan.address, credentials, {
      "grpc.use_local_subchannel_pool": 1,
      // Dial 127.0.0.1 but name the server by a DNS name of its certificate (no IP in SNI).
      "grpc.ssl_target_name_override": "localhost",
      "grpc.keepalive_time_ms": 60_000,
    });
    const call = (
      client as unknown as { connect(): grpc.ClientDuplexStream<ConnectRequest, ConnectResponse> }
    ).connect();
    agent.client = client;
    agent.call = call;
    let welcomed = false;
    const fail = (why: string) => {
      if (welcomed) return;
      welcomed = true;
      result.failed++;
      if (result.errors.length < 5) result.errors.push(why);
      resolve();
    };
    call.on("error", (error: Error) => fail(error.message));
    call.on("status", (status: grpc.StatusObject) => fail(`${status.code} ${status.details}`));
    call.on("data", (message: ConnectResponse) => {
      const payload = message.payload;
      if (payload.case === "welcome" && !welcomed) {
        welcomed = true;
        result.connected++;
        resolve();
      } else if (payload.case === "metricsAck") {
        const at = Date.now();
        for (const sequence of payload.value.sequences) {
          const collected = agent.pending.get(sequence);
          if (collected === undefined) {
            result.duplicateAcks++;
            continue;
          }
          agent.pending.delete(sequence);
          result.acked++;
          result.lagsMs.push(at - collected);
        }
      } else if (payload.case === "ping") {
        call.write(
          create(ConnectRequestSchema, { payload: { case: "pong", value: { nonce: payload.value.nonce } } }),
        );
      }
    });
    call.write(
      create(ConnectRequestSchema, {
        payload: { case: "hello", value: benchHello(`bench-${identity.serverId.slice(0, 8)}`) },
      }),
    );
  });
}

function sendSample(agent: Agent) {
  agent.sequence++;
  const collectedAt = new Date();
  agent.pending.set(BigInt(agent.sequence), collectedAt.getTime());
  result.sent[agent.identity.serverId] = agent.sequence;
  const samples = [toWire(benchSample(agent.sequence, collectedAt))];
  agent.call?.write(
    create(ConnectRequestSchema, { payload: { case: "metricBatch", value: { samples } } } as never),
  );
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

function startSending() {
  for (const agent of agents) {
    // Agents start at random points of the interval, as a real fleet does.
    const offset = Math.random() * plan.intervalMs;
    agent.timer = setTimeout(() => {
      sendSample(agent);
      agent.timer = setInterval(() => sendSample(agent), plan.intervalMs);
    }, offset);
  }
}

function stopSending() {
  for (const agent of agents) {
    clearTimeout(agent.timer);
    clearInterval(agent.timer);
  }
}

async function waitForAcks(maxMs: number) {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline && agents.some((agent) => agent.pending.size > 0)) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

process.on("message", async (message: { type: string; plan?: WorkerPlan }) => {
  if (message.type === "connect" && message.plan) {
    plan = message.plan;
    for (const identity of plan.agents) agents.push({ identity, sequence: 0, pending: new Map() });
    await connectAll();
    process.send?.({
      type: "connected",
      connected: result.connected,
      failed: result.failed,
      errors: result.errors,
    });
  } else if (message.type === "start") {
    loopDelay.enable();
    startSending();
  } else if (message.type === "stop") {
    stopSending();
    loopDelay.disable();
    result.loopDelayP99Ms = Math.round(loopDelay.percentile(99) / 1e6);
    await waitForAcks(15_000);
    for (const agent of agents) {
      agent.call?.end();
      agent.client?.close();
    }
    process.send?.({ type: "result", result });
  } else if (message.type === "exit") {
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
