import { describe, expect, it } from "vitest";
import { readCookie } from "./cookies";

describe("readCookie", () => {
  it("finds a cookie among others", () => {
    expect(readCookie("a=1; ocore_csrf=abc; b=2", "ocore_csrf")).toBe("abc");
    expect(readCookie("ocore_csrf=abc", "ocore_csrf")).toBe("abc");
  });

  it("does not match a cookie whose name only ends with the name", () => {
    expect(readCookie("x_ocore_csrf=evil", "ocore_csrf")).toBeUndefined();
  });

  it("decodes the value and keeps '=' inside it", () => {
    expect(readCookie("t=a%2Fb%3D=c", "t")).toBe("a/b==c");
  });

  it("returns undefined for a missing, empty or malformed cookie", () => {
    expect(readCookie("", "t")).toBeUndefined();
    expect(readCookie("t=", "t")).toBeUndefined();
    expect(readCookie("t=%E0%A4%A", "t")).toBeUndefined();
  });
});
