import { EventEmitter } from "node:events";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  type ConnectRequest,
  type ConnectResponse,
  ConnectResponseSchema,
  HelloSchema,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { HostSampleSchema } from "@ocore/proto/gen/ocore/agent/v1/metrics_pb.js";
import { describe, expect, it } from "vitest";
import type { InstanceStatesWriter } from "../instances/instance-watch.js";
import { openSpool } from "../spool/spool.js";
import { createCaptureLogger } from "../test/capture-logger.js";
import { createFakeClock } from "../test/fake-clock.js";
import { createSession, type LinkStream, type SessionOptions } from "./agent-session.js";

/** A stream that records writes with the fake time they happened, and can refuse more (flow control). */
class RecordingStream extends EventEmitter implements LinkStream {
  readonly writes: Array<{ at: number; message: ConnectRequest }> = [];
  full = false;
  constructor(private readonly now: () => number) {
    super();
  }
  write(message: ConnectRequest): boolean {
    this.writes.push({ at: this.now(), message });
    return !this.full;
  }
  end(): void {}
  cancel(): void {}
  respond(payload: ConnectResponse["payload"]): void {
    this.emit("data", create(ConnectResponseSchema, { payload }));
  }
  batches() {
    return this.writes.flatMap(({ at, message }) =>
      message.payload.case === "metricBatch"
        ? [{ at, sequences: message.payload.value.samples.map((s) => Number(s.sequence)) }]
        : [],
    );
  }
}

async function setUp(
  samples: number,
  sessionOptions: { maxInFlight?: number; instanceStates?: SessionOptions["instanceStates"] } = {},
) {
  const clock = createFakeClock();
  const spool = await openSpool({
    directory: await mkdtemp(path.join(os.tmpdir(), "ocore-session-")),
    maxBytes: 1 << 20,
  });
  for (let sequence = 1; sequence <= samples; sequence++) {
    await spool.append(create(HostSampleSchema, { sequence: BigInt(sequence), tcpConnections: 1 }));
  }
  const stream = new RecordingStream(clock.now);
  const intervals: number[] = [];
  const session = createSession({
    stream,
    spool,
    clock,
    logger: createCaptureLogger().logger,
    hello: create(HelloSchema, { agentVersion: "t" }),
    renewal: { needed: () => false, begin: async () => "", complete: async () => {} },
    onInterval: (seconds) => intervals.push(seconds),
    ...sessionOptions,
  });
  const welcomed = session.handshake();
  stream.respond({ case: "welcome", value: { serverId: "s" } } as never);
  await welcomed;
  return { clock, spool, stream, session, intervals };
}

describe("agent session", () => {
  it("replays the spool in batches of at most 100, at most 10 per second", async () => {
    const { clock, stream, session } = await setUp(350);
    const ended = session.run();
    await clock.advanceInSteps(1000);
    const batches = stream.batches();
    expect(batches.map((batch) => batch.sequences.length)).toEqual([100, 100, 100, 50]);
    expect(batches.flatMap((batch) => batch.sequences)).toEqual(
      Array.from({ length: 350 }, (_, index) => index + 1),
    );
    for (let index = 1; index < batches.length; index++) {
      expect((batches[index]?.at ?? 0) - (batches[index - 1]?.at ?? 0)).toBeGreaterThanOrEqual(100);
    }
    session.stop();
    expect((await ended).reason).toBe("stopped");
  });

  it("stops at the in-flight bound until acknowledgements arrive, and drops acked samples from the spool", async () => {
    const { clock, stream, session, spool } = await setUp(250, { maxInFlight: 150 });
    session.run();
    await clock.advanceInSteps(2000);
    expect(stream.batches().flatMap((batch) => batch.sequences)).toHaveLength(150);
    stream.respond({
      case: "metricsAck",
      value: { sequences: Array.from({ length: 100 }, (_, i) => BigInt(i + 1)) },
    } as never);
    await clock.advanceInSteps(2000);
    expect(spool.size).toBe(150);
    expect(stream.batches().flatMap((batch) => batch.sequences)).toHaveLength(250);
    session.stop();
  });

  it("waits for 'drain' when the stream says it is full", async () => {
    const { clock, stream, session, spool } = await setUp(300);
    stream.full = true;
    session.run();
    await clock.advanceInSteps(5000);
    expect(stream.batches()).toHaveLength(1);
    stream.full = false;
    stream.emit("drain");
    await clock.advanceInSteps(1000);
    expect(stream.batches()).toHaveLength(3);
    // New live samples go out as they arrive.
    await spool.append(create(HostSampleSchema, { sequence: 301n }));
    session.notifySample();
    await clock.advanceInSteps(200);
    expect(stream.batches().at(-1)?.sequences).toEqual([301]);
    session.stop();
  });

  it("answers Ping with Pong and passes interval changes on", async () => {
    const { clock, stream, session, intervals } = await setUp(0);
    session.run();
    stream.respond({ case: "ping", value: { nonce: 77n } } as never);
    stream.respond({ case: "configUpdate", value: { metricsIntervalSeconds: 30 } } as never);
    stream.respond({ case: "configUpdate", value: { metricsIntervalSeconds: 99_999 } } as never);
    await clock.advanceInSteps(10);
    const pong = stream.writes.find(({ message }) => message.payload.case === "pong")?.message.payload;
    expect(pong?.case === "pong" && pong.value.nonce).toBe(77n);
    expect(intervals).toEqual([30]);
    session.stop();
  });

  it("lets the instance watch write while the stream is live, from Welcome until it ends", async () => {
    const attached: InstanceStatesWriter[] = [];
    const detached: InstanceStatesWriter[] = [];
    const { session, stream } = await setUp(0, {
      instanceStates: {
        attach: (writer) => attached.push(writer),
        detach: (writer) => detached.push(writer),
      },
    });
    const ended = session.run();
    expect(attached).toHaveLength(1);
    attached[0]?.write({ instances: [{ instanceId: "i", containers: [{ role: "odoo", state: "exited" }] }] });
    const sent = stream.writes.at(-1)?.message.payload;
    expect(sent?.case).toBe("instanceStates");
    expect(sent?.case === "instanceStates" && sent.value.instances[0]?.containers[0]?.state).toBe("exited");
    stream.emit("end");
    await ended;
    expect(detached).toEqual(attached);
  });

  it("probes a silent server with a Ping after 4 s and gives the stream up after 12 s", async () => {
    const { clock, stream, session } = await setUp(0);
    let cancelled = 0;
    stream.cancel = () => {
      cancelled += 1;
    };
    const ended = session.run();
    const pings = () => stream.writes.filter(({ message }) => message.payload.case === "ping");
    await clock.advanceInSteps(3_500, 250);
    expect(pings()).toHaveLength(0);
    await clock.advanceInSteps(1_000, 250);
    expect(pings()).toHaveLength(1);
    // An answer (any message) counts as a sign of life: the silence starts again.
    stream.respond({ case: "pong", value: { nonce: 1n } } as never);
    await clock.advanceInSteps(11_000, 250);
    expect(cancelled).toBe(0);
    await clock.advanceInSteps(1_500, 250);
    const end = await ended;
    expect(end.reason).toBe("failed");
    expect(end.reason === "failed" && (end.error as Error).name).toBe("ServerSilentError");
    expect(cancelled).toBe(1);
    expect(pings().length).toBeGreaterThanOrEqual(3);
  });

  it("ends as failed when the server closes the stream", async () => {
    const { session, stream } = await setUp(0);
    const ended = session.run();
    stream.emit("end");
    const end = await ended;
    expect(end.reason).toBe("failed");
  });
});
