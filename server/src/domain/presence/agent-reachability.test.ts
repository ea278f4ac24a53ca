import { describe, expect, it } from "vitest";
import { agentIsOffline, requireAgentOnline } from "./agent-reachability.js";
import { STALE_LAST_SEEN_AFTER_MS } from "./server-presence.js";

describe("agentIsOffline", () => {
  const now = new Date("2026-12-07T12:00:00Z");
  const ago = (ms: number) => new Date(now.getTime() - ms);

  it("trusts the status the replicas write, and the last-seen bound for the others", () => {
    expect(agentIsOffline({ name: "a", status: "offline", lastSeenAt: ago(1_000) }, now)).toBe(true);
    expect(agentIsOffline({ name: "a", status: "active", lastSeenAt: ago(10 * 60_000) }, now)).toBe(false);
    expect(agentIsOffline({ name: "a", status: "connecting", lastSeenAt: null }, now)).toBe(true);
    expect(agentIsOffline({ name: "a", status: "connected", lastSeenAt: ago(1_000) }, now)).toBe(false);
    expect(
      agentIsOffline({ name: "a", status: "connected", lastSeenAt: ago(STALE_LAST_SEEN_AFTER_MS + 1) }, now),
    ).toBe(true);
  });

  it("names the server and when it was last seen", () => {
    expect(() =>
      requireAgentOnline({ name: "web-1", status: "offline", lastSeenAt: ago(60_000) }, now),
    ).toThrow("server web-1 is offline (last seen 2026-12-07T11:59:00.000Z); the command was not sent");
    expect(() => requireAgentOnline({ name: "web-2", status: "offline", lastSeenAt: null }, now)).toThrow(
      "server web-2 is offline (never seen)",
    );
  });
});
