import { describe, expect, it } from "vitest";
import {
  agentCheckTitle,
  HEALTH_CHECKS,
  type HealthAlert,
  instanceChecks,
  serverHealth,
} from "./server-health";

const alert = (overrides: Partial<HealthAlert>): HealthAlert => ({
  serverId: "s1",
  ruleKey: "builtin:disk_used",
  ruleName: "Disk used",
  state: "firing",
  severity: "warning",
  summary: "disk / is 85% full",
  action: "free space",
  labels: {},
  ...overrides,
});

describe("serverHealth", () => {
  it("lists every built-in check, fine when no open alert of this server says otherwise", () => {
    const rows = serverHealth(
      [alert({ serverId: "other" }), alert({ state: "resolved", ruleKey: "builtin:memory_pressure" })],
      "s1",
    );
    expect(rows.map((row) => row.check)).toEqual(HEALTH_CHECKS.map(([, name]) => name));
    expect(rows.every((row) => row.state === "ok")).toBe(true);
  });

  it("shows the worst alert of a check, pending and unreachable ones, and user rules", () => {
    const rows = serverHealth(
      [
        alert({ labels: { mount: "/" } }),
        alert({ severity: "critical", summary: "disk /var is 95% full", labels: { mount: "/var" } }),
        alert({ ruleKey: "builtin:clock_skew", state: "pending", summary: "clock 30 s behind" }),
        alert({ ruleKey: "builtin:memory_pressure", state: "unreachable" }),
        alert({ ruleKey: "rule:abc", ruleName: "CPU high", severity: "critical" }),
      ],
      "s1",
    );
    const byCheck = new Map(rows.map((row) => [row.check, row]));
    expect(byCheck.get("Disk space")).toMatchObject({ state: "critical", summary: "disk /var is 95% full" });
    expect(byCheck.get("Clock")).toMatchObject({ state: "pending", summary: "clock 30 s behind" });
    expect(byCheck.get("Memory")?.state).toBe("unreachable");
    expect(byCheck.get("CPU high")?.state).toBe("critical");
    expect(byCheck.get("Agent connected")?.state).toBe("ok");
  });
});

describe("instanceChecks", () => {
  it("keeps one instance's checks, in the panel's order, and names them on the server page", () => {
    const checks = [
      { key: "odoo_realtime", subject: "shop" },
      { key: "odoo_web", subject: "shop-2" },
      { key: "inodes", subject: "/" },
      { key: "odoo_web", subject: "shop" },
      { key: "odoo_containers", subject: "shop" },
    ];
    expect(instanceChecks(checks, "shop").map((check) => check.key)).toEqual([
      "odoo_containers",
      "odoo_web",
      "odoo_realtime",
    ]);
    expect(agentCheckTitle("odoo_web", "shop")).toBe("Odoo web shop");
  });
});
