import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { FleetServerSchema } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { ServerSchema } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { describe, expect, it } from "vitest";
import {
  checkInstanceName,
  instanceActions,
  instanceLinks,
  instancesVersion,
  isTransitional,
} from "./instances";

const entry = (id: string, count: number, changedAt?: Date) =>
  create(FleetServerSchema, {
    server: create(ServerSchema, { id }),
    instanceCount: count,
    instancesChangedAt: changedAt ? timestampFromDate(changedAt) : undefined,
  });

describe("instances", () => {
  it("offers the actions that fit the state", () => {
    expect(instanceActions("running")).toEqual({ start: false, stop: true, restart: true, remove: true });
    expect(instanceActions("stopped")).toEqual({ start: true, stop: false, restart: false, remove: true });
    expect(instanceActions("creating").remove).toBe(false);
    expect(isTransitional("creating")).toBe(true);
    expect(isTransitional("running")).toBe(false);
  });

  it("links the web port and gives loopback-only ports as an SSH tunnel, never a link", () => {
    expect(instanceLinks({ webPort: 20000, longpollingPort: 20001, mailpitPort: 20002 }, "10.0.0.5")).toEqual(
      [
        { label: "Odoo", port: 20000, href: "http://10.0.0.5:20000/" },
        { label: "Longpolling", port: 20001, tunnel: "ssh -L 20001:127.0.0.1:20001 10.0.0.5" },
        { label: "Mailpit", port: 20002, tunnel: "ssh -L 20002:127.0.0.1:20002 10.0.0.5" },
      ],
    );
    const v6 = instanceLinks({ webPort: 20000, longpollingPort: 0, mailpitPort: 20002 }, "::1");
    expect(v6).toEqual([
      { label: "Odoo", port: 20000, href: "http://[::1]:20000/" },
      { label: "Mailpit", port: 20002, tunnel: "ssh -L 20002:127.0.0.1:20002 ::1" },
    ]);
  });

  it("checks names like the server", () => {
    expect(checkInstanceName("shop-prod")).toBeUndefined();
    expect(checkInstanceName("Shop")).toMatch(/lowercase/);
  });

  it("changes its version only when a server's instances change", () => {
    const at = new Date("2026-12-04T10:00:00.250Z");
    const base = instancesVersion([entry("b", 1, at), entry("a", 0)]);
    // The order of the fleet does not matter; a metric sample (same instances) changes nothing.
    expect(instancesVersion([entry("a", 0), entry("b", 1, at)])).toBe(base);
    expect(instancesVersion([entry("a", 0), entry("b", 1, new Date(at.getTime() + 1))])).not.toBe(base);
    expect(instancesVersion([entry("a", 1, at), entry("b", 1, at)])).not.toBe(base);
    expect(instancesVersion([entry("a", 0), entry("b", 0)])).not.toBe(base);
    // Only the servers asked about count.
    expect(instancesVersion([entry("a", 5, at), entry("b", 1, at)], new Set(["b"]))).toBe(
      instancesVersion([entry("b", 1, at)]),
    );
  });
});
