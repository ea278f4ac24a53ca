import { describe, expect, it } from "vitest";
import { analyzeDiskFull } from "./analyzers/disk-full.js";
import { buildReport } from "./build-report.js";
import { FAULT_CASES, healthyEvidence } from "./fault-scenarios.js";

const now = new Date("2026-12-07T12:00:00Z");

describe("analyzers on the fault table", () => {
  it.each(FAULT_CASES.map((c) => [c.name, c] as const))(
    "%s: the injected cause ranks first, with evidence and a window",
    (_name, fault) => {
      const evidence = fault.build(now);
      const report = buildReport(fault.question, evidence.window, [evidence]);
      const top = report.findings[0];
      expect(top?.analyzer).toBe(fault.expected);
      expect(top?.evidence.length).toBeGreaterThan(0);
      expect(top?.window).toBeDefined();
      expect(report.steps.length).toBeGreaterThanOrEqual(8);
    },
  );

  it("a healthy server gives no findings and rules the causes out", () => {
    const evidence = healthyEvidence(now);
    const report = buildReport("why is web-1 slow?", evidence.window, [evidence]);
    expect(report.findings).toEqual([]);
    expect(report.steps.filter((s) => s.outcome === "ruled_out").length).toBeGreaterThanOrEqual(5);
    expect(report.baselines[0]?.text).toMatch(/Normal over 30 days/);
  });

  it("a filled disk names the mount, the time it crossed 90 % and the cleanup templates", () => {
    const fault = FAULT_CASES.find((c) => c.expected === "disk_full");
    const evidence = fault?.build(now);
    if (!evidence) throw new Error("no disk case");
    const [finding] = analyzeDiskFull(evidence).findings;
    expect(finding?.title).toMatch(/^Disk \/ is 97 % full/);
    const crossed = finding?.evidence.find((e) => e.label === "crossed 90 %");
    // 60 + (i − 60)·37/59 ≥ 90 first at i = 108: 12 minutes before the end.
    expect(crossed?.window?.from.toISOString()).toBe("2026-12-07T11:48:00.000Z");
    expect(finding?.remediation.map((r) => r.templateKey)).toEqual([
      "builtin.disk-usage",
      "builtin.docker-prune",
    ]);
    const report = buildReport(fault?.question ?? "", evidence.window, [evidence]);
    expect(report.remediation[0]?.templateKey).toBe("builtin.disk-usage");
    expect(report.summary).toMatch(/Disk \/ is 97 % full on web-1/);
  });

  it("the CPU finding names the container that used it", () => {
    const evidence = FAULT_CASES.find((c) => c.expected === "cpu_saturation")?.build(now);
    if (!evidence) throw new Error("no cpu case");
    const top = buildReport("slow", evidence.window, [evidence]).findings[0];
    expect(top?.title).toBe("CPU saturated by container cpu-hog");
    expect(top?.evidence[0]?.min).toBeGreaterThanOrEqual(90);
  });
});
