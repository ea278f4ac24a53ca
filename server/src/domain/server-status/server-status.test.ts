import { describe, expect, it } from "vitest";
import {
  ACTIVATED_BY_AGENT_STREAM,
  canMoveServer,
  SERVER_STATUSES,
  SHOWS_LIVE_AGENT,
  statusesThatMayBecome,
} from "./server-status.js";

describe("the server lifecycle table", () => {
  it("never leaves removing but for itself", () => {
    for (const to of SERVER_STATUSES) expect(canMoveServer("removing", to)).toBe(to === "removing");
    expect(statusesThatMayBecome("removing")).toEqual([...SERVER_STATUSES]);
  });

  it("lets provisioning move a server from any status but removing", () => {
    expect(statusesThatMayBecome("connecting")).toEqual(
      SERVER_STATUSES.filter((status) => status !== "removing"),
    );
    expect(statusesThatMayBecome("failed")).not.toContain("removing");
  });

  it("turns only an active server offline", () => {
    expect(statusesThatMayBecome("offline")).toEqual(["active"]);
  });

  it("allows every move the agent stream makes", () => {
    for (const from of ACTIVATED_BY_AGENT_STREAM) expect(canMoveServer(from, "active")).toBe(true);
    for (const from of SHOWS_LIVE_AGENT) expect(canMoveServer(from, "offline")).toBe(true);
  });
});
