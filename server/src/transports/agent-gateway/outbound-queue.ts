import type { ConnectResponse } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import type { SessionStream } from "./session-stream.js";

/**
 * A session's outbound side: writes go straight to the transport until its buffer is full, then
 * wait in a bounded queue until it drains (metric acks merge into one while they wait). Beyond
 * `maxQueue` waiting messages the agent is not reading: `overflow` closes the stream.
 */
export class OutboundQueue {
  private readonly queue: ConnectResponse[] = [];
  private waitingForDrain = false;
  private readonly writableWaiters: Array<() => void> = [];

  constructor(
    private readonly stream: SessionStream,
    private readonly maxQueue: number,
    private readonly overflow: () => void,
  ) {
    stream.onDrain(() => this.flush());
  }

  send(message: ConnectResponse): void {
    if (this.waitingForDrain) {
      const last = this.queue.at(-1);
      if (message.payload.case === "metricsAck" && last?.payload.case === "metricsAck") {
        last.payload.value.sequences.push(...message.payload.value.sequences); // one ack for many batches
        return;
      }
      this.queue.push(message);
      if (this.queue.length > this.maxQueue) this.overflow();
      return;
    }
    this.waitingForDrain = !this.stream.write(message);
  }

  /** Resolves once everything queued reached the transport (or the queue was cleared). */
  writable(): Promise<void> {
    if (!this.waitingForDrain) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  /** The stream closed: drops what waits and releases whoever waits for `writable`. */
  clear(): void {
    this.queue.length = 0;
    this.wakeWritable();
  }

  private flush(): void {
    this.waitingForDrain = false;
    while (!this.waitingForDrain && this.queue.length > 0) {
      this.waitingForDrain = !this.stream.write(this.queue.shift() as ConnectResponse);
    }
    if (!this.waitingForDrain) this.wakeWritable();
  }

  private wakeWritable(): void {
    for (const wake of this.writableWaiters.splice(0)) wake();
  }
}
