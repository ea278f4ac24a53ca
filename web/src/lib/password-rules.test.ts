import { describe, expect, it } from "vitest";
import { checkNewPassword } from "./password-rules";

describe("checkNewPassword", () => {
  it("accepts a long enough, new, repeated password", () => {
    expect(checkNewPassword("one-time-pw", "correct horse battery", "correct horse battery")).toBeUndefined();
  });

  it("refuses a short, unchanged or mistyped one", () => {
    expect(checkNewPassword("a", "short", "short")).toMatch(/at least 12/);
    expect(checkNewPassword("same password!", "same password!", "same password!")).toMatch(/differ from/);
    expect(checkNewPassword("a", "correct horse battery", "correct horse batery")).toMatch(/differ; type/);
  });
});
