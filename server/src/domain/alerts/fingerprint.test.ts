import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { alertFingerprint } from "./fingerprint.js";

describe("alertFingerprint", () => {
  it("hashes the rule, the server and the sorted labels, the same on every call", () => {
    const expected = createHash("sha256")
      .update(["builtin:disk_used", "s-1", "a=1", "mount=/var"].join("\n"))
      .digest("hex")
      .slice(0, 32);
    expect(alertFingerprint("builtin:disk_used", "s-1", { mount: "/var", a: "1" })).toBe(expected);
    expect(alertFingerprint("builtin:disk_used", "s-1", { a: "1", mount: "/var" })).toBe(expected);
    expect(alertFingerprint("builtin:disk_used", "s-1", { mount: "/var" })).not.toBe(expected);
    expect(alertFingerprint("builtin:agent_offline", "s-1", {})).toBe(
      createHash("sha256").update("builtin:agent_offline\ns-1").digest("hex").slice(0, 32),
    );
  });
});
