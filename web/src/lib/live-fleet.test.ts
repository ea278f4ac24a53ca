import { create } from "@bufbuild/protobuf";
import {
  FleetWindowSchema,
  WatchFleetResponseSchema,
} from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { describe, expect, it } from "vitest";
import { applyFleetBatch, sortedFleet, windowEntries } from "./live-fleet";
import { reconnectCeilingMs } from "./reconnect";

const entry = (id: string, name: string, status = "active") => ({ server: { id, name, status } });

describe("the live fleet", () => {
  it("shows a watched page in the window's order, leaving out servers not received", () => {
    const fleet = applyFleetBatch(
      new Map(),
      create(WatchFleetResponseSchema, {
        initial: true,
        servers: [entry("a", "web-1"), entry("b", "web-2")],
      }),
    );
    const window = create(FleetWindowSchema, { serverIds: ["b", "x", "a"] });
    expect(windowEntries(fleet, window).map((e) => e.server?.name)).toEqual(["web-2", "web-1"]);
    expect(windowEntries(undefined, window)).toEqual([]);
    expect(windowEntries(fleet, undefined)).toEqual([]);
  });

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
