import { EventEmitter } from "node:events";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import {
  type ConnectRequest,
  type ConnectResponse,
  ConnectResponseSchema,
  HelloSchema,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { describe, expect, it } from "vitest";
import { openSpool } from "../spool/spool.js";
import { createCaptureLogger } from "../test/capture-logger.js";
import { createFakeClock } from "../test/fake-clock.js";
import { createAgentLink, type Dialer } from "./agent-link.js";
import type { LinkStream } from "./agent-session.js";
import { createBackoff, seededRandom } from "./backoff.js";

/** A stream whose server answers Hello the way the test's script says. */
class ScriptedStream extends EventEmitter implements LinkStream {
  readonly written: ConnectRequest[] = [];
  constructor(private readonly onHello: (stream: ScriptedStream) => void) {
    super();
  }
  write(message: ConnectRequest): boolean {
    this.written.push(message);
    if (message.payload.case === "hello") setImmediate(() => this.onHello(this));
    // Like the real server, a live stream answers the agent's liveness probes.
    const { payload } = message;
    if (payload.case === "ping")
      setImmediate(() => this.respond({ case: "pong", value: { nonce: payload.value.nonce } } as never));
    return true;
  }
  end(): void {}
  cancel(): void {}
  respond(payload: ConnectResponse["payload"]): void {
    this.emit("data", create(ConnectResponseSchema, { payload }));
  }
  fail(code: number, details: string): void {
    this.emit("error", Object.assign(new Error(details), { code, details }));
  }
}

async function setUp(script: Array<(stream: ScriptedStream) => void>) {
  const clock = createFakeClock();
  const { logger, lines } = createCaptureLogger();
  const spool = await openSpool({
    directory: await mkdtemp(path.join(os.tmpdir(), "ocore-link-")),
    maxBytes: 1 << 20,
  });
  const streams: ScriptedStream[] = [];
  const dialer: Dialer = {
    async dial() {
      const step = script[Math.min(streams.length, script.length - 1)] as (stream: ScriptedStream) => void;
      const stream = new ScriptedStream(step);
      streams.push(stream);
      return { stream, close() {} };
    },
  };
  const delays: number[] = [];
  const backoff = createBackoff({ random: seededRandom(1) });
  const link = createAgentLink({
    dialer,
    spool,
    clock,
    logger,
    backoff: {
      next: () => {
        const delay = backoff.next();
        delays.push(delay);
        return delay;
      },
      atCap: () => {
        const delay = backoff.atCap();
        delays.push(delay);
        return delay;
      },
      reset: () => backoff.reset(),
      get failures() {
        return backoff.failures;
      },
    },
    renewal: { needed: () => false, begin: async () => "", complete: async () => {} },
    hello: async () => create(HelloSchema, { agentVersion: "test" }),
    onInterval: () => {},
  });
  return { clock, lines, link, streams, delays, spool };
}

const refused = (stream: ScriptedStream) =>
  stream.fail(status.UNAVAILABLE, "connect ECONNREFUSED 127.0.0.1:1");
const welcome = (stream: ScriptedStream) =>
  stream.respond({ case: "welcome", value: { serverId: "s-1" } } as never);
const reminder = (line: Record<string, unknown>) => String(line.msg).startsWith("agent link still down");
/** Warnings and errors that report news (a failure kind), not the once-a-minute "still down" reminders. */
const warnings = (lines: Array<Record<string, unknown>>) =>
  lines.filter((line) => (line.level as number) >= 40 && !reminder(line));
/** When each reminder was written (its next attempt time minus the delay): at most one a minute. */
const reminderTimes = (lines: Array<Record<string, unknown>>) =>
  lines
    .filter((line) => (line.level as number) >= 40 && reminder(line))
    .map((line) => Date.parse(String(line.nextAttemptAt)) - Number(line.retryInMs));

describe("agent link", () => {
  it("logs a failure kind once while it repeats, and again after a connection", async () => {
    const welcomeThenDrop = (stream: ScriptedStream) => {
      welcome(stream);
      setImmediate(() => stream.fail(status.UNAVAILABLE, "connect ECONNREFUSED 127.0.0.1:1"));
    };
    const script = [refused, refused, refused, refused, welcomeThenDrop, refused, refused];
    const { clock, lines, link, streams } = await setUp(script);
    link.start();
    await clock.advance(10 * 60_000);
    expect(streams.length).toBeGreaterThanOrEqual(7);
    // Failures 1-4: one line. Connected. Then the stream fails again: one more line.
    const failures = warnings(lines);
    expect(failures.map((line) => line.kind)).toEqual(["connection refused", "connection refused"]);
    expect(lines.some((line) => line.msg === "agent link connected")).toBe(true);
    await link.stop();
    expect(link.state).toBe("stopped");
  });

  it("logs a change of failure kind", async () => {
    const tls = (stream: ScriptedStream) => stream.fail(status.UNAVAILABLE, "certificate verify failed");
    const { clock, lines, link } = await setUp([refused, refused, tls, tls]);
    link.start();
    await clock.advance(5 * 60_000);
    expect(warnings(lines).map((line) => line.kind)).toEqual(["connection refused", "tls failure"]);
    await link.stop();
  });

  it("treats a refused identity as fatal: says to re-enroll and retries at the cap", async () => {
    const denied = (stream: ScriptedStream) => stream.fail(status.PERMISSION_DENIED, "certificate revoked");
    const { clock, lines, link, delays } = await setUp([denied]);
    link.start();
    await clock.advance(10 * 60_000);
    const errors = lines.filter((line) => line.level === 50);
    expect(errors.filter((line) => !reminder(line))).toHaveLength(1);
    expect(String(errors[0]?.msg)).toContain("ocore-agent enroll");
    // Still retrying, said at most once a minute: 10 minutes give at most 10 reminders.
    const times = reminderTimes(lines);
    expect(times.length).toBeGreaterThan(0);
    expect(times.length).toBeLessThanOrEqual(10);
    for (let i = 1; i < times.length; i++)
      expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(60_000);
    expect(delays.length).toBeGreaterThan(3);
    expect(delays.every((delay) => delay >= 30_000 && delay < 60_000)).toBe(true);
    await link.stop();
  });

  it("backs off with growing full-jitter delays and resets after a stable connection", async () => {
    let drop: ScriptedStream | undefined;
    const holdThenDrop = (stream: ScriptedStream) => {
      welcome(stream);
      drop = stream;
    };
    const { clock, link, delays } = await setUp([
      refused,
      refused,
      refused,
      refused,
      refused,
      holdThenDrop,
      refused,
    ]);
    link.start();
    await clock.advance(3 * 60_000);
    expect(link.state).toBe("connected");
    expect(delays).toHaveLength(5);
    for (const [attempt, delay] of delays.entries()) expect(delay).toBeLessThan(1000 * 2 ** attempt);
    // Stable for two minutes, then dropped: the next delay starts from the base again.
    await clock.advance(2 * 60_000);
    drop?.fail(status.UNAVAILABLE, "Connection dropped");
    await clock.advance(0);
    expect(link.state).toBe("backing_off");
    expect(delays[5]).toBeLessThan(1000);
    await link.stop();
    expect(link.state).toBe("stopped");
  });

  it("gives up waiting for Welcome after the handshake timeout", async () => {
    const silent = () => {};
    const { clock, lines, link, streams } = await setUp([silent]);
    link.start();
    await clock.advance(19_000);
    expect(link.state).toBe("handshaking");
    expect(streams).toHaveLength(1);
    // The timeout fires at 20 s, the first retry follows within a second.
    await clock.advance(2_000);
    expect(warnings(lines).map((line) => line.kind)).toEqual(["no welcome"]);
    expect(streams).toHaveLength(2);
    await link.stop();
  });
});
