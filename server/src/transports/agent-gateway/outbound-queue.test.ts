import { create } from "@bufbuild/protobuf";
import {
  type ConnectResponse,
  ConnectResponseSchema,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { describe, expect, it } from "vitest";
import { OutboundQueue } from "./outbound-queue.js";
import type { SessionStream } from "./session-stream.js";

/** A transport whose buffer takes `room` messages before it asks the writer to wait for a drain. */
function fakeTransport(room: number) {
  const written: ConnectResponse[] = [];
  let drain: () => void = () => {};
  let free = room;
  const stream: SessionStream = {
    write(message) {
      written.push(message);
      free -= 1;
      return free > 0;
    },
    onDrain: (listener) => {
      drain = listener;
    },
    pauseReading: () => {},
    resumeReading: () => {},
    end: () => {},
  };
  return {
    stream,
    written,
    drain: (newRoom: number) => {
      free = newRoom;
      drain();
    },
  };
}

const ping = (nonce: bigint) =>
  create(ConnectResponseSchema, { payload: { case: "ping", value: { nonce } } });
const ack = (...sequences: bigint[]) =>
  create(ConnectResponseSchema, { payload: { case: "metricsAck", value: { sequences } } });

describe("a session's outbound queue", () => {
  it("writes through until the transport is full, then queues, merging waiting metric acks", async () => {
    const transport = fakeTransport(1);
    let overflowed = false;
    const queue = new OutboundQueue(transport.stream, 8, () => {
      overflowed = true;
    });
    queue.send(ping(1n)); // fills the transport
    queue.send(ack(1n));
    queue.send(ack(2n, 3n));
    queue.send(ping(2n));
    expect(transport.written).toHaveLength(1);
    let writable = false;
    const waited = queue.writable().then(() => {
      writable = true;
    });
    await Promise.resolve();
    expect(writable).toBe(false);

    transport.drain(10);
    await waited;
    expect(transport.written.map((message) => message.payload.case)).toEqual(["ping", "metricsAck", "ping"]);
    expect(transport.written[1]?.payload.value).toMatchObject({ sequences: [1n, 2n, 3n] });
    expect(overflowed).toBe(false);
  });

  it("calls overflow when more than maxQueue messages wait (the agent does not read)", () => {
    const transport = fakeTransport(1);
    let overflows = 0;
    const queue = new OutboundQueue(transport.stream, 2, () => {
      overflows += 1;
    });
    for (let nonce = 1n; nonce <= 3n; nonce += 1n) queue.send(ping(nonce));
    expect(overflows).toBe(0);
    queue.send(ping(4n));
    expect(overflows).toBe(1);
  });

  it("releases writable() waiters when cleared (the stream closed)", async () => {
    const transport = fakeTransport(1);
    const queue = new OutboundQueue(transport.stream, 8, () => {});
    queue.send(ping(1n));
    queue.send(ping(2n));
    const waited = queue.writable();
    queue.clear();
    await waited;
    transport.drain(10);
    expect(transport.written).toHaveLength(1);
  });
});
