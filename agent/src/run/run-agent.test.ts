import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentConfig } from "../config/config.js";
import { createBackoff } from "../connection/backoff.js";
import { enroll } from "../enrollment/enroll.js";
import { certificateMatchesKey, readCertificateInfo } from "../identity/certificate-lifetime.js";
import { createIdentityStore } from "../identity/identity-store.js";
import { createCaptureLogger } from "../test/capture-logger.js";
import {
  createTestServerStore,
  startTestAgentServer,
  type TestAgentServer,
  type TestServerStore,
} from "../test/test-agent-server.js";
import { createTestCa, type TestCa } from "../test/test-pki.js";
import { type RunningAgent, startAgent } from "./run-agent.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Setup {
  ca: TestCa;
  store: TestServerStore;
  server: TestAgentServer;
  config: AgentConfig;
  agent: RunningAgent;
  restartServer(options?: { downMs?: number }): Promise<void>;
}

/** A loopback mTLS server, a real enrollment against it, then `ocore-agent run`'s assembly. */
async function setUp(options: { enrollLifetimeMs?: number } = {}): Promise<Setup> {
  const ca = await createTestCa();
  const store = createTestServerStore();
  let server = await startTestAgentServer({ ca, store, enrollLifetimeMs: options.enrollLifetimeMs });
  const port = server.port;
  const stateDir = await mkdtemp(path.join(os.tmpdir(), "ocore-run-"));
  await enroll({
    server: `127.0.0.1:${port}`,
    token: server.token(),
    store: createIdentityStore(stateDir),
    agentVersion: "0.0.1",
  });
  const config: AgentConfig = {
    server: undefined,
    stateDir,
    logLevel: "info",
    metricsIntervalMs: 1000,
    spoolMaxBytes: 1024 * 1024,
    dockerSocket: undefined,
    reconnectMaxMs: 60_000,
    checkIntervalMs: 30_000,
    startCheckEveryMs: 0,
  };
  const { logger } = createCaptureLogger();
  const agent = await startAgent({
    config,
    logger,
    agentVersion: "0.0.1",
    link: { backoff: createBackoff({ baseMs: 50, capMs: 300 }) },
  });
  const setup: Setup = {
    ca,
    store,
    server,
    config,
    agent,
    async restartServer({ downMs = 0 } = {}) {
      server.close();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      server = await startTestAgentServer({ ca, store, port });
      setup.server = server;
    },
  };
  cleanups.push(() => setup.server.close());
  cleanups.push(() => agent.stop());
  return setup;
}

const sequencesOf = (store: TestServerStore) => [...store.samples.keys()].map(Number).sort((a, b) => a - b);

describe("ocore-agent run against a loopback mTLS server", { timeout: 30_000 }, () => {
  it("says Hello first, sends numbered batches, and forgets what the server acknowledged", async () => {
    const { store, agent } = await setUp();
    await waitFor(() => store.samples.size >= 3, "three samples stored");
    const first = store.connections[0];
    expect(first?.commonName).toBe("7d9e8f0a-1b2c-4d3e-8f4a-5b6c7d8e9f00");
    expect(first?.received[0]?.payload.case).toBe("hello");
    const hello = first?.received[0]?.payload.value as {
      agentVersion: string;
      cpuCores: number;
      kernel: string;
    };
    expect(hello).toMatchObject({ agentVersion: "0.0.1", cpuCores: os.cpus().length, kernel: os.release() });
    // After Hello: metric batches, and the host checks' results once per check cycle.
    const cases = new Set(first?.received.slice(1).map((message) => message.payload.case));
    expect([...cases].every((name) => name === "metricBatch" || name === "hostChecks")).toBe(true);
    expect(cases.has("metricBatch")).toBe(true);
    const sequences = sequencesOf(store);
    expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, index) => index + 1));
    const sample = store.samples.get(2n);
    expect(sample?.cpu?.cores).toBe(os.cpus().length);
    expect(sample?.memory?.totalBytes).toBeGreaterThan(0n);
    await waitFor(() => agent.spool.size === 0, "the spool to empty after acks", 3000);
  });

  it("spools while the server is down and replays every sample exactly once after it returns", async () => {
    const setup = await setUp();
    await waitFor(() => setup.store.samples.size >= 2, "first samples");
    await setup.restartServer({ downMs: 3500 });
    await waitFor(() => setup.store.connections.length >= 2, "a reconnect");
    const highest = Math.max(...sequencesOf(setup.store));
    await waitFor(
      () => setup.agent.spool.size === 0 && sequencesOf(setup.store).length >= highest,
      "the replay",
    );
    const sequences = sequencesOf(setup.store);
    expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, index) => index + 1));
    expect(sequences.length).toBeGreaterThanOrEqual(5);
    // The second stream opened with Hello announcing what it had spooled during the outage.
    const hello = setup.store.connections.at(-1)?.received[0];
    expect(hello?.payload.case).toBe("hello");
    const announced = hello?.payload.case === "hello" ? hello.payload.value.spooledSamples : 0n;
    expect(announced).toBeGreaterThanOrEqual(2n);
  });

  it("applies a ConfigUpdate's interval at once", async () => {
    const { store, server, agent } = await setUp();
    await waitFor(() => store.samples.size >= 1, "a first sample");
    const call = store.connections[0]?.call;
    if (!call) throw new Error("no stream");
    server.send(call, { case: "configUpdate", value: { metricsIntervalSeconds: 3 } } as never);
    await waitFor(() => agent.sampling.intervalMs === 3000, "the new interval");
    const before = store.samples.size;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // At 1 s there would be two more samples by now; at 3 s at most one.
    expect(store.samples.size - before).toBeLessThanOrEqual(1);
  });

  it("renews a certificate past two thirds of its lifetime and reconnects with the new one", async () => {
    // Valid from a minute ago for 80 s in all: 20 s left, less than a third.
    const setup = await setUp({ enrollLifetimeMs: 20_000 });
    const certFile = path.join(setup.config.stateDir, "cert.pem");
    const before = await readFile(certFile, "utf8");
    await waitFor(() => setup.store.connections.length >= 2, "a reconnect with the renewed certificate");
    const renewals = setup.store.connections[0]?.received.filter(
      (message) => message.payload.case === "renewCertificate",
    );
    expect(renewals).toHaveLength(1);
    const identity = await createIdentityStore(setup.config.stateDir).load();
    expect(identity.certificatePem).not.toBe(before);
    expect(certificateMatchesKey(identity.certificatePem, identity.keyPem)).toBe(true);
    expect(readCertificateInfo(identity.certificatePem).notAfter.getTime()).toBeGreaterThan(
      Date.now() + 29 * 86_400_000,
    );
    expect(setup.store.connections[1]?.commonName).toBe(setup.store.connections[0]?.commonName);
    await waitFor(() => setup.store.samples.size >= 2, "samples on the new stream");
    // The new certificate has most of its life ahead: no second renewal.
    expect(
      setup.store.connections[1]?.received.some((message) => message.payload.case === "renewCertificate"),
    ).toBe(false);
  });
});
