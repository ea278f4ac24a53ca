import { describe, expect, it } from "vitest";
import { safeNextPath, withNext } from "./auth-paths";

describe("safeNextPath", () => {
  it("keeps a path on this origin with its query", () => {
    expect(safeNextPath("/servers?status=failed")).toBe("/servers?status=failed");
  });

  it.each([null, undefined, "", "servers", "https://evil.example", "//evil.example", "/\\evil.example"])(
    "refuses %s",
    (next) => {
      expect(safeNextPath(next)).toBe("/");
    },
  );

  it("never returns to the sign-in page", () => {
    expect(safeNextPath("/sign-in?next=/servers")).toBe("/");
  });
});

describe("withNext", () => {
  it("adds an encoded next parameter", () => {
    expect(withNext("/sign-in", "/servers?q=a b")).toBe("/sign-in?next=%2Fservers%3Fq%3Da%20b");
  });

  it("leaves it out for the overview", () => {
    expect(withNext("/sign-in", "/")).toBe("/sign-in");
  });
});
