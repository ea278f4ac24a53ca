import type { ConnectResponse } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import type { End } from "./grpc-status.js";

/** What a session needs from its transport (a grpc-js duplex stream in production). */
export interface SessionStream {
  /** false: the transport's buffer is full; wait for onDrain before writing more. */
  write(message: ConnectResponse): boolean;
  onDrain(listener: () => void): void;
  pauseReading(): void;
  resumeReading(): void;
  end(end: End): void;
}
