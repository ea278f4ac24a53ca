import { describe, expect, it } from "vitest";
import { countByState, describeState, sortAlerts } from "./alerts";

const alert = (state: string, severity: string, serverName: string, ruleName = "Disk used") => ({
  state,
  severity,
  serverName,
  ruleName,
});

describe("alerts in the console", () => {
  it("puts firing critical alerts first, resolved last", () => {
    const sorted = sortAlerts([
      alert("resolved", "critical", "a"),
      alert("pending", "warning", "a"),
      alert("firing", "warning", "a"),
      alert("unreachable", "critical", "b"),
      alert("firing", "critical", "z"),
    ]);
    expect(sorted.map((a) => `${a.state}/${a.severity}/${a.serverName}`)).toEqual([
      "firing/critical/z",
      "firing/warning/a",
      "pending/warning/a",
      "unreachable/critical/b",
      "resolved/critical/a",
    ]);
  });

  it("says what unreachable means and counts states", () => {
    expect(describeState("unreachable")).toContain("notifies nothing");
    expect(countByState([alert("firing", "warning", "a"), alert("firing", "critical", "b")])).toEqual({
      firing: 2,
    });
  });
});
