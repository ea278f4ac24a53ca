import { describe, expect, it } from "vitest";
import { describeServerStatus, formatStatusReason, SERVER_STATUSES } from "./server-status";

describe("describeServerStatus", () => {
  it("labels every known status", () => {
    for (const status of SERVER_STATUSES) {
      expect(describeServerStatus(status).label).toMatch(/^[A-Z][a-z]+$/);
    }
  });

  it("gives each outcome its tone", () => {
    expect(describeServerStatus("active").tone).toBe("success");
    expect(describeServerStatus("failed").tone).toBe("danger");
    expect(describeServerStatus("offline").tone).toBe("warning");
    expect(describeServerStatus("provisioning").tone).toBe("progress");
    expect(describeServerStatus("pending")).toEqual({ label: "Pending", tone: "neutral" });
  });

  it("shows an unknown status as given, neutral", () => {
    expect(describeServerStatus("hibernating")).toEqual({ label: "Hibernating", tone: "neutral" });
    expect(describeServerStatus("")).toEqual({ label: "Unknown", tone: "neutral" });
  });
});

describe("formatStatusReason", () => {
  it("turns a code into words", () => {
    expect(formatStatusReason("host_key_mismatch")).toBe("host key mismatch");
  });
});
