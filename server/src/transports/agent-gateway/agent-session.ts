import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { OpenSshTunnelSchema } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import {
  type CommandEvent,
  type CommandSchema,
  type ConnectRequest,
  ConnectResponseSchema,
  type InstanceStates,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import type { HostChecks } from "@ocore/proto/gen/ocore/agent/v1/host_checks_pb.js";
import type { AgentIdentity } from "../../domain/agent-identity/authenticate-agent.js";
import type { CommandLink } from "../../domain/commands/command-transport.js";
import type { MetricSampleInput } from "../../domain/metrics/metric-sample.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { IssuedCertificate } from "../../platform/pki/certificates.js";
import { validateCommandEvent, validateCommandEvents } from "./command-event-validation.js";
import { type End, endFromError } from "./grpc-status.js";
import { type HelloFacts, validateHello, validateMetricBatch } from "./message-validation.js";
import { OutboundQueue } from "./outbound-queue.js";
import type { SessionStream } from "./session-stream.js";

/** The words of the stream's life; any other transition is refused. */
export type SessionState = "awaiting_hello" | "live" | "closed";

export interface SessionHooks {
  /** The Hello is valid: register the stream (replacing an older one) and show the server active. */
  onHello(session: AgentSession, facts: HelloFacts): Promise<void>;
  writeMetrics(serverId: string, samples: readonly MetricSampleInput[]): Promise<void>;
  renewCertificate(identity: AgentIdentity, csrPem: string): Promise<IssuedCertificate>;
  /** The Welcome is sent: commands waiting for this server may go out. */
  onLive?(session: AgentSession): void;
  /**
   * A validated CommandEvent; the session reads nothing more until it resolves (so output is
   * paced by its storage). Rejecting refuses the stream.
   */
  onCommandEvent?(session: AgentSession, event: CommandEvent): Promise<void>;
  /** The agent's observed instance states (a snapshot part or changes); read pauses until it resolves. */
  onInstanceStates?(session: AgentSession, states: InstanceStates): Promise<void>;
  /** The agent's host check results (validated by the hook); read pauses until it resolves. */
  onHostChecks?(session: AgentSession, checks: HostChecks): Promise<void>;
  /** Called once, whatever closed the stream. `wasLive` tells whether a Hello was accepted. */
  onClosed(session: AgentSession, end: End, wasLive: boolean): void;
}

export interface SessionOptions {
  readonly identity: AgentIdentity;
  readonly stream: SessionStream;
  readonly hooks: SessionHooks;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly welcome: { readonly serverVersion: string; readonly metricsIntervalSeconds: number };
  /** Outbound messages held while the agent does not read; beyond it the stream is closed. */
  readonly maxOutboundQueue?: number;
  /** Metric batches being committed at once; at the limit the session stops reading. */
  readonly maxBatchesInFlight?: number;
}

/**
 * One agent stream: awaiting_hello → live → closed. Inbound flow control: one message is handled
 * at a time and reading pauses while too many batches are being committed. Outbound: a bounded
 * queue behind the transport's own buffer; an agent that stops reading is disconnected.
 */
export class AgentSession implements CommandLink {
  state: SessionState = "awaiting_hello";
  readonly serverId: string;
  readonly connectedAt: Date;
  lastReceivedAt: Date;
  lastPingAt: Date;
  /** The agent pushed a full snapshot of its instance states on this stream (changes follow). */
  instanceStatesSynced = false;
  private readonly outbound: OutboundQueue;
  private handling = false;
  private batchesInFlight = 0;
  private nonce = 0n;

  constructor(private readonly options: SessionOptions) {
    this.serverId = options.identity.serverId;
    this.connectedAt = options.now();
    this.lastReceivedAt = this.connectedAt;
    this.lastPingAt = this.connectedAt;
    this.outbound = new OutboundQueue(options.stream, options.maxOutboundQueue ?? 256, () =>
      this.close({ code: "resource_exhausted", message: "the agent does not read its stream" }),
    );
  }

  get identity(): AgentIdentity {
    return this.options.identity;
  }

  get live(): boolean {
    return this.state === "live";
  }

  sendCommand(command: MessageInitShape<typeof CommandSchema>): void {
    this.send({ case: "command", value: command });
  }

  sendCancel(commandId: string, reason: string): void {
    this.send({ case: "cancelCommand", value: { commandId, reason } });
  }

  /** Asks the agent to open a Tunnel call to the host's sshd (transports/agent-gateway/ssh-tunnels.ts). */
  sendOpenSshTunnel(request: MessageInitShape<typeof OpenSshTunnelSchema>): void {
    this.send({ case: "openSshTunnel", value: request });
  }

  /** Resolves once everything queued reached the transport (or the stream closed). */
  writable(): Promise<void> {
    if (this.state === "closed") return Promise.resolve();
    return this.outbound.writable();
  }

  /** Feeds one message from the agent; the transport calls this for each, in order. */
  receive(message: ConnectRequest): void {
    if (this.state === "closed") return;
    this.lastReceivedAt = this.options.now();
    this.handling = true;
    this.options.stream.pauseReading();
    this.handle(message)
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.handling = false;
        this.updateReading();
      });
  }

  /** The agent half-closed its side: finish politely. */
  peerEnded(): void {
    this.close({ code: "ok", message: "the agent ended the stream" });
  }

  /** The transport is gone (cancelled, reset): nothing more can be sent. */
  transportClosed(): void {
    this.close({ code: "unavailable", message: "the connection to the agent was lost" }, false);
  }

  sendPing(): void {
    this.lastPingAt = this.options.now();
    this.nonce += 1n;
    this.send({ case: "ping", value: { nonce: this.nonce, sentAt: timestampFromDate(this.lastPingAt) } });
  }

  close(end: End, sendStatus = true): void {
    if (this.state === "closed") return;
    const wasLive = this.state === "live";
    this.state = "closed";
    this.outbound.clear();
    if (sendStatus) this.options.stream.end(end);
    this.options.hooks.onClosed(this, end, wasLive);
  }

  private async handle(message: ConnectRequest): Promise<void> {
    const { payload } = message;
    if (this.state === "awaiting_hello") {
      if (payload.case !== "hello") {
        throw new AppError("failed_precondition", "the first message on the stream must be Hello");
      }
      const facts = validateHello(payload.value);
      await this.options.hooks.onHello(this, facts);
      if (this.state !== "awaiting_hello") return; // closed meanwhile
      this.state = "live";
      this.send({
        case: "welcome",
        value: {
          serverId: this.serverId,
          serverVersion: this.options.welcome.serverVersion,
          metricsIntervalSeconds: this.options.welcome.metricsIntervalSeconds,
          commandEventBatches: this.options.hooks.onCommandEvent !== undefined,
          instanceChecks: true,
        },
      });
      this.options.hooks.onLive?.(this);
      return;
    }
    switch (payload.case) {
      case "hello":
        throw new AppError("failed_precondition", "Hello was already sent on this stream");
      case "metricBatch": {
        const samples = validateMetricBatch(payload.value, this.options.now());
        // Only the sequences wait for the commit: the samples themselves are garbage as soon as
        // the writer has serialized them (keeping them young keeps them cheap to collect).
        const sequences = samples.map((s) => BigInt(s.sequence));
        this.batchesInFlight += 1;
        this.options.hooks
          .writeMetrics(this.serverId, samples)
          .then(
            () => this.send({ case: "metricsAck", value: { sequences } }),
            (error: unknown) => this.fail(error),
          )
          .finally(() => {
            this.batchesInFlight -= 1;
            this.updateReading();
          });
        return;
      }
      case "ping":
        this.send({ case: "pong", value: { nonce: payload.value.nonce } });
        return;
      case "pong":
        return;
      case "renewCertificate": {
        const issued = await this.options.hooks.renewCertificate(this.identity, payload.value.csrPem);
        this.send({
          case: "certificateRenewed",
          value: { certificatePem: issued.certificatePem, notAfter: timestampFromDate(issued.notAfter) },
        });
        return;
      }
      case "commandEvent":
      case "commandEvents": {
        // A batch is checked whole before any of it is applied.
        const events =
          payload.case === "commandEvent"
            ? [validateCommandEvent(payload.value)]
            : validateCommandEvents(payload.value);
        const onEvent = this.options.hooks.onCommandEvent;
        if (!onEvent) throw new AppError("failed_precondition", "this server does not run commands");
        for (const event of events) await onEvent(this, event);
        return;
      }
      case "instanceStates":
        // Observations only: a server that does not record them ignores them.
        await this.options.hooks.onInstanceStates?.(this, payload.value);
        if (payload.value.snapshotEnd) this.instanceStatesSynced = true;
        return;
      case "hostChecks":
        // Observations only: a server that does not record them ignores them.
        await this.options.hooks.onHostChecks?.(this, payload.value);
        return;
      default:
        throw new AppError("invalid_argument", "the message carries no known payload");
    }
  }

  private send(payload: NonNullable<MessageInitShape<typeof ConnectResponseSchema>["payload"]>): void {
    if (this.state === "closed") return;
    this.outbound.send(create(ConnectResponseSchema, { payload }));
  }

  private updateReading(): void {
    if (this.state === "closed") return;
    if (!this.handling && this.batchesInFlight < (this.options.maxBatchesInFlight ?? 4)) {
      this.options.stream.resumeReading();
    } else {
      this.options.stream.pauseReading();
    }
  }

  private fail(error: unknown): void {
    const end = endFromError(error);
    if (end.code === "internal") {
      this.options.logger.error({ err: error, serverId: this.serverId }, "agent stream failed");
    } else {
      this.options.logger.info(
        { serverId: this.serverId, reason: end.message },
        "agent stream refused a message",
      );
    }
    this.close(end);
  }
}
