import { create } from "@bufbuild/protobuf";
import { WatchFleetResponseSchema } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { describe, expect, it } from "vitest";
import { applyFleetBatch, sortedFleet } from "./live-fleet";
import { reconnectCeilingMs } from "./reconnect";

const entry = (id: string, name: string, status = "active") => ({ server: { id, name, status } });

describe("the live fleet", () => {
  it("replaces on the initial batch, then patches and removes", () => {
    let fleet = applyFleetBatch(
      new Map(),
      create(WatchFleetResponseSchema, {
        initial: true,
        servers: [entry("b", "web-2"), entry("a", "web-1")],
      }),
    );
    expect(sortedFleet(fleet).map((e) => e.server?.name)).toEqual(["web-1", "web-2"]);
    fleet = applyFleetBatch(
      fleet,
      create(WatchFleetResponseSchema, {
        servers: [entry("a", "web-1", "offline")],
        removedServerIds: ["b"],
      }),
    );
    expect(sortedFleet(fleet).map((e) => [e.server?.name, e.server?.status])).toEqual([["web-1", "offline"]]);
    fleet = applyFleetBatch(
      fleet,
      create(WatchFleetResponseSchema, { initial: true, servers: [entry("c", "db")] }),
    );
    expect([...fleet.keys()]).toEqual(["c"]);
  });

  it("backs off up to 30 seconds", () => {
    expect([1, 2, 3, 6, 10].map(reconnectCeilingMs)).toEqual([1000, 2000, 4000, 30_000, 30_000]);
  });
});
