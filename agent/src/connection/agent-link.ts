import type { Hello, Welcome } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import type { Logger } from "../logging/logger.js";
import type { Spool } from "../spool/spool.js";
import { createSession, type LinkStream, type Renewal, type Session } from "./agent-session.js";
import type { Backoff } from "./backoff.js";
import { type Clock, sleep } from "./clock.js";
import type { TunnelCall } from "./grpc-clients.js";
import { classifyFailure, createFailureLog } from "./link-failure.js";
import { createLinkStateMachine, type LinkState } from "./link-state-machine.js";

/** Opens one stream to the server (the real one: grpc-js with mTLS; tests may fake it). */
export interface Dialer {
  dial(): Promise<{ stream: LinkStream; openTunnel?: () => TunnelCall; close(): void }>;
}

export interface AgentLinkOptions {
  readonly dialer: Dialer;
  readonly spool: Spool;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly backoff: Backoff;
  readonly renewal: Renewal;
  /** Built per connection, so the spooled count is current. */
  readonly hello: () => Promise<Hello>;
  readonly onInterval: (seconds: number) => void;
  readonly onWelcome?: (welcome: Welcome) => void;
  /** A connection that lasted this long resets the backoff. */
  readonly stableAfterMs?: number;
  /** Extra session settings (replay bounds, timeouts), mainly for tests. */
  readonly session?: Partial<Parameters<typeof createSession>[0]>;
}

export interface AgentLink {
  readonly state: LinkState;
  start(): void;
  /** The spool holds a new sample: send it now if connected. */
  notifySample(): void;
  /** Ends the stream and stops reconnecting; resolves once the loop has exited. */
  stop(): Promise<void>;
}

/**
 * The agent's one link to the server: connect → handshake → connected, and on any failure back
 * off (full jitter) and try again, for as long as the agent runs. States and transitions are
 * explicit (link-state-machine.ts); every timer comes from the injected clock.
 */
export function createAgentLink(options: AgentLinkOptions): AgentLink {
  const { clock, logger, backoff } = options;
  const stableAfterMs = options.stableAfterMs ?? 60_000;
  const failures = createFailureLog(logger, clock);
  const halt = new AbortController();
  const machine = createLinkStateMachine({
    now: clock.now,
    onChange: (from, to) => logger.debug({ from, to }, "agent link state"),
  });
  let session: Session | undefined;
  let loop: Promise<void> | undefined;

  async function connectOnce(): Promise<{ connectedAt?: number; error?: unknown; renewed?: boolean }> {
    machine.transition("connecting");
    let connection: Awaited<ReturnType<Dialer["dial"]>>;
    try {
      connection = await options.dialer.dial();
    } catch (error) {
      return { error };
    }
    try {
      if (halt.signal.aborted) return {};
      machine.transition("handshaking");
      const current = createSession({
        ...options.session,
        stream: connection.stream,
        openTunnel: connection.openTunnel,
        spool: options.spool,
        clock,
        logger,
        hello: await options.hello(),
        renewal: options.renewal,
        onInterval: options.onInterval,
      });
      session = current;
      if (halt.signal.aborted) current.stop();
      let welcome: Welcome;
      try {
        welcome = await current.handshake();
      } catch (error) {
        current.stop();
        return { error };
      }
      machine.transition("connected");
      const connectedAt = clock.now();
      failures.clear();
      logger.info({ serverId: welcome.serverId, spooled: options.spool.size }, "agent link connected");
      if (welcome.metricsIntervalSeconds > 0) options.onInterval(welcome.metricsIntervalSeconds);
      options.onWelcome?.(welcome);
      const end = await current.run();
      if (end.reason === "renewed") return { connectedAt, renewed: true };
      return { connectedAt, error: end.reason === "failed" ? end.error : undefined };
    } finally {
      session = undefined;
      connection.close();
    }
  }

  async function run(): Promise<void> {
    while (!halt.signal.aborted) {
      const outcome = await connectOnce();
      if (halt.signal.aborted) break;
      if (outcome.renewed) continue;
      if (outcome.connectedAt !== undefined && clock.now() - outcome.connectedAt >= stableAfterMs)
        backoff.reset();
      const failure = classifyFailure(outcome.error ?? new Error("the stream ended"));
      const delayMs = failure.fatal ? backoff.atCap() : backoff.next();
      machine.transition("backing_off");
      failures.report(failure, { retryInMs: delayMs });
      await sleep(clock, delayMs, halt.signal);
    }
    machine.transition("stopped");
  }

  return {
    get state() {
      return machine.state;
    },
    start() {
      if (loop) throw new Error("the agent link is already started");
      loop = run();
    },
    notifySample() {
      session?.notifySample();
    },
    async stop() {
      halt.abort();
      session?.stop();
      if (loop) await loop;
      else if (machine.state !== "stopped") machine.transition("stopped");
    },
  };
}
