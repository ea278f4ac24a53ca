import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
  type Hello,
  type Welcome,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import type { HostChecks, HostChecksWriter } from "../checks/host-checks.js";
import type { CommandExecutor } from "../commands/command-executor.js";
import { type CommandOutbox, type OutboxWriter, streamOutboxWriter } from "../commands/command-outbox.js";
import type { InstanceStatesWriter, InstanceWatch } from "../instances/instance-watch.js";
import type { Logger } from "../logging/logger.js";
import type { Spool } from "../spool/spool.js";
import type { SshTunnels } from "../ssh-tunnel/ssh-tunnel.js";
import { type Clock, sleep } from "./clock.js";
import type { TunnelCall } from "./grpc-clients.js";

/** The part of a grpc-js client duplex stream the session uses (fakes in tests implement it). */
export interface LinkStream {
  write(message: ConnectRequest): boolean;
  end(): void;
  cancel(): void;
  on(event: "data", listener: (message: ConnectResponse) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "end" | "drain", listener: () => void): unknown;
  once(event: "drain", listener: () => void): unknown;
  removeListener(event: "drain", listener: () => void): unknown;
}

/** The server accepted the stream but never answered Hello. */
export class HandshakeTimeoutError extends Error {
  override name = "HandshakeTimeoutError";
  constructor() {
    super("no Welcome from the server within the handshake timeout");
  }
}

/** Nothing came from the server for the silence limit: the path is dead though no FIN or RST came. */
export class ServerSilentError extends Error {
  override name = "ServerSilentError";
  constructor(silentMs: number) {
    super(`nothing from the server for ${Math.round(silentMs / 1000)} s (a Ping went unanswered)`);
  }
}

/**
 * How the agent finds a dead path on its own side (decision 0201): after `probeAfterMs` without a
 * message from the server it sends a Ping (the server answers every Ping); after `silentForMs` it
 * gives the stream up and reconnects. Checked every `checkEveryMs`; a check that ran much later
 * than planned (the agent itself was stalled) does not give up that round, since the server's
 * answer may be waiting unread.
 */
export interface LivenessTiming {
  readonly probeAfterMs: number;
  readonly silentForMs: number;
  readonly checkEveryMs: number;
}

export const defaultLiveness: LivenessTiming = {
  probeAfterMs: 4_000,
  silentForMs: 12_000,
  checkEveryMs: 1_000,
};
const LATE_CHECK_MS = 2_500;

/** How a session ended: the link decides what comes next from this. */
export type SessionEnd =
  | { readonly reason: "failed"; readonly error: unknown }
  | { readonly reason: "renewed" }
  | { readonly reason: "stopped" };

export interface Renewal {
  /** True when the certificate has less than a third of its lifetime left. */
  needed(): boolean;
  /** Generates and keeps a new key; returns its CSR. */
  begin(): Promise<string>;
  /** Stores the new certificate with the pending key; throws when it does not fit the key. */
  complete(certificatePem: string): Promise<void>;
}

export interface SessionOptions {
  readonly stream: LinkStream;
  readonly spool: Spool;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly hello: Hello;
  readonly renewal: Renewal;
  /** Welcome and ConfigUpdate set the sampling interval through this. */
  readonly onInterval: (seconds: number) => void;
  readonly handshakeTimeoutMs?: number;
  /** Replay bounds: samples per batch, batches per second, samples sent but not yet acknowledged. */
  readonly batchSize?: number;
  readonly batchesPerSecond?: number;
  readonly maxInFlight?: number;
  readonly renewalCheckMs?: number;
  /** Runs the server's commands; their events go out through the outbox while this stream is live. */
  readonly commands?: { readonly executor: CommandExecutor; readonly outbox: CommandOutbox };
  /** Pushes the host's instance states (a snapshot, then changes) while this stream is live. */
  readonly instanceStates?: Pick<InstanceWatch, "attach" | "detach">;
  /** Sends the host checks' results (the newest at once, then every cycle) while this stream is live. */
  readonly hostChecks?: Pick<HostChecks, "attach" | "detach">;
  /** Opens a Tunnel call on this stream's channel (absent: SSH tunnels are not offered). */
  readonly openTunnel?: () => TunnelCall;
  /** Serves the server's OpenSshTunnel requests (ssh-tunnel/ssh-tunnel.ts). */
  readonly sshTunnels?: SshTunnels;
  /** When a silent server is probed and given up (defaultLiveness). */
  readonly liveness?: LivenessTiming;
}

export interface Session {
  /** Sends Hello and resolves with Welcome; rejects when the stream fails first or times out. */
  handshake(): Promise<Welcome>;
  /** Sends spooled samples until the stream ends; resolves with why. */
  run(): Promise<SessionEnd>;
  /** The spool has a new sample. */
  notifySample(): void;
  /** Half-closes the stream and ends run() with "stopped". */
  stop(): void;
}

export function createSession(options: SessionOptions): Session {
  const { stream, spool, clock, logger } = options;
  const batchSize = options.batchSize ?? 100;
  const minBatchGapMs = 1000 / (options.batchesPerSecond ?? 10);
  const maxInFlight = options.maxInFlight ?? 1000;
  const halt = new AbortController();
  const inFlight = new Set<bigint>();
  let lastSent = 0n;
  let lastHeardAt = clock.now();
  let renewing = false;
  let wake: (() => void) | undefined;
  let resolveWelcome: ((welcome: Welcome) => void) | undefined;
  let finish!: (end: SessionEnd) => void;
  let commandWriter: OutboxWriter | undefined;
  let statesWriter: InstanceStatesWriter | undefined;
  let checksWriter: HostChecksWriter | undefined;
  const ended = new Promise<SessionEnd>((resolve) => {
    finish = (end) => {
      if (halt.signal.aborted) return;
      if (commandWriter) options.commands?.outbox.detach(commandWriter);
      if (statesWriter) options.instanceStates?.detach(statesWriter);
      if (checksWriter) options.hostChecks?.detach(checksWriter);
      halt.abort();
      wake?.();
      resolve(end);
    };
  });

  const send = (payload: MessageInitShape<typeof ConnectRequestSchema>["payload"]) =>
    stream.write(create(ConnectRequestSchema, { payload }));

  /** Resolves when notifySample/ack wakes it, the stream can take more, or the session ends. */
  const waitForWork = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });

  const waitForDrain = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        stream.removeListener("drain", done);
        halt.signal.removeEventListener("abort", done);
        resolve();
      };
      stream.once("drain", done);
      halt.signal.addEventListener("abort", done, { once: true });
    });

  async function checkRenewal(): Promise<void> {
    if (renewing || !options.renewal.needed()) return;
    renewing = true;
    try {
      const csrPem = await options.renewal.begin();
      if (halt.signal.aborted) return;
      logger.info("certificate past two thirds of its lifetime: asking the server for a new one");
      send({ case: "renewCertificate", value: { csrPem } });
    } catch (error) {
      renewing = false;
      logger.error({ err: error }, "could not prepare certificate renewal; will retry");
    }
  }

  async function handle(message: ConnectResponse): Promise<void> {
    const { payload } = message;
    switch (payload.case) {
      case "welcome":
        resolveWelcome?.(payload.value);
        if (options.commands && !halt.signal.aborted) {
          commandWriter = streamOutboxWriter(send, waitForDrain, payload.value.commandEventBatches);
          options.commands.outbox.attach(commandWriter);
        }
        if (options.instanceStates && !halt.signal.aborted) {
          statesWriter = {
            write: (states) => send({ case: "instanceStates", value: states }),
            drained: waitForDrain,
          };
          options.instanceStates.attach(statesWriter);
        }
        if (options.hostChecks && !halt.signal.aborted) {
          checksWriter = {
            write: (checks) => send({ case: "hostChecks", value: checks }),
            instanceChecks: payload.value.instanceChecks,
          };
          options.hostChecks.attach(checksWriter);
        }
        return;
      case "command":
        if (options.commands) options.commands.executor.receive(payload.value);
        else logger.warn({ commandId: payload.value.commandId }, "ignoring a command: this agent runs none");
        return;
      case "cancelCommand":
        options.commands?.executor.cancel(payload.value.commandId, payload.value.reason);
        return;
      case "openSshTunnel":
        if (options.sshTunnels && options.openTunnel) {
          options.sshTunnels.open(payload.value, options.openTunnel);
        } else {
          logger.warn(
            { tunnelId: payload.value.tunnelId },
            "ignoring an SSH tunnel request: this agent serves none",
          );
        }
        return;
      case "metricsAck": {
        const sequences = payload.value.sequences;
        for (const sequence of sequences) inFlight.delete(sequence);
        await spool.ack(sequences);
        wake?.();
        return;
      }
      case "ping":
        send({ case: "pong", value: { nonce: payload.value.nonce } });
        return;
      case "configUpdate": {
        const seconds = payload.value.metricsIntervalSeconds;
        if (seconds >= 1 && seconds <= 3600) options.onInterval(seconds);
        else if (seconds !== 0) logger.warn({ seconds }, "ignoring a metrics interval outside 1..3600 s");
        return;
      }
      case "certificateRenewed":
        try {
          await options.renewal.complete(payload.value.certificatePem);
          logger.info("stored the renewed certificate; reconnecting with it");
          finish({ reason: "renewed" });
          stream.end();
        } catch (error) {
          renewing = false;
          logger.error(
            { err: error },
            "the renewed certificate could not be installed; keeping the current one",
          );
        }
        return;
      default:
        return;
    }
  }

  stream.on("data", (message) => {
    lastHeardAt = clock.now();
    handle(message).catch((error: unknown) => finish({ reason: "failed", error }));
  });
  stream.on("error", (error) => finish({ reason: "failed", error }));
  stream.on("end", () => finish({ reason: "failed", error: new Error("the server closed the stream") }));

  async function pump(): Promise<void> {
    let lastBatchAt = Number.NEGATIVE_INFINITY;
    while (!halt.signal.aborted) {
      if (inFlight.size >= maxInFlight) {
        await waitForWork();
        continue;
      }
      const samples = await spool.peek(Math.min(batchSize, maxInFlight - inFlight.size), lastSent);
      if (halt.signal.aborted) return;
      if (samples.length === 0) {
        await waitForWork();
        continue;
      }
      const gap = lastBatchAt + minBatchGapMs - clock.now();
      if (gap > 0) await sleep(clock, gap, halt.signal);
      if (halt.signal.aborted) return;
      for (const sample of samples) inFlight.add(sample.sequence);
      lastSent = samples.at(-1)?.sequence ?? lastSent;
      lastBatchAt = clock.now();
      const writable = send({ case: "metricBatch", value: { samples, droppedSamples: spool.droppedCount } });
      if (!writable) await waitForDrain();
    }
  }

  async function watchLiveness(): Promise<void> {
    const timing = options.liveness ?? defaultLiveness;
    let lastProbeAt = Number.NEGATIVE_INFINITY;
    let nonce = 0n;
    let plannedAt = clock.now() + timing.checkEveryMs;
    while (!halt.signal.aborted) {
      await sleep(clock, timing.checkEveryMs, halt.signal);
      if (halt.signal.aborted) return;
      const now = clock.now();
      const late = now - plannedAt > LATE_CHECK_MS;
      plannedAt = now + timing.checkEveryMs;
      const silentMs = now - lastHeardAt;
      if (silentMs >= timing.silentForMs && !late) {
        finish({ reason: "failed", error: new ServerSilentError(silentMs) });
        stream.cancel();
        return;
      }
      if (silentMs >= timing.probeAfterMs && now - lastProbeAt >= timing.probeAfterMs) {
        lastProbeAt = now;
        nonce += 1n;
        send({ case: "ping", value: { nonce } });
      }
    }
  }

  return {
    handshake() {
      return new Promise<Welcome>((resolve, reject) => {
        const timer = clock.setTimeout(
          () => reject(new HandshakeTimeoutError()),
          options.handshakeTimeoutMs ?? 20_000,
        );
        resolveWelcome = (welcome) => {
          clock.clearTimeout(timer);
          resolveWelcome = undefined;
          resolve(welcome);
        };
        ended.then((end) => {
          clock.clearTimeout(timer);
          reject(end.reason === "failed" ? end.error : new Error(`session ${end.reason} before Welcome`));
        });
        send({ case: "hello", value: options.hello });
      });
    },
    async run() {
      pump().catch((error: unknown) => finish({ reason: "failed", error }));
      const renewalTimer = async () => {
        while (!halt.signal.aborted) {
          await checkRenewal();
          await sleep(clock, options.renewalCheckMs ?? 3_600_000, halt.signal);
        }
      };
      renewalTimer().catch(() => undefined);
      lastHeardAt = clock.now();
      watchLiveness().catch((error: unknown) => finish({ reason: "failed", error }));
      return ended;
    },
    notifySample() {
      wake?.();
    },
    stop() {
      finish({ reason: "stopped" });
      stream.end();
      // The half-close lets the server finish; a server that never does must not hold the agent.
      clock.setTimeout(() => stream.cancel(), 2000);
    },
  };
}
