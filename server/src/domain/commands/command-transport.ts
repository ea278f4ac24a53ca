import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CommandEvent, CommandSchema } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";

/** One agent's live stream, as the command runner sees it (the gateway's AgentSession). */
export interface CommandLink {
  readonly serverId: string;
  /** True while the stream is live (Hello accepted, not closed). */
  readonly live: boolean;
  /** Writes a Command; a closed stream drops it (it is redelivered after the reconnect). */
  sendCommand(command: MessageInitShape<typeof CommandSchema>): void;
  sendCancel(commandId: string, reason: string): void;
  /** Resolves when the stream's buffer has room again (or the stream closed). */
  writable(): Promise<void>;
}

/** The live links of this process, by server id. */
export interface CommandLinks {
  get(serverId: string): CommandLink | undefined;
}

/** What the gateway tells the runner. */
export interface CommandEventSink {
  /** A stream went live (after Welcome): deliver what waits for its server. */
  onLive(link: CommandLink): void;
  /**
   * One event from the agent. Resolves when it is accepted (queued for storage, within bounds);
   * the stream reads nothing more meanwhile. Rejects with an AppError to refuse the stream.
   */
  onEvent(link: CommandLink, event: CommandEvent): Promise<void>;
}
