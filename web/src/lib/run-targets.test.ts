import { describe, expect, it } from "vitest";
import { serverIdsParam, withServers } from "./run-targets";

const a = "0b7c5a52-3d4e-4f60-8a1b-2c3d4e5f6071";
const b = "1c8d6b63-4e5f-4071-9b2c-3d4e5f607182";

describe("servers in a run form's address", () => {
  it("keeps well-formed ids once, drops the rest", () => {
    expect(serverIdsParam(`${a},${b},${a}, nope ,'; drop`)).toEqual([a, b]);
    expect(serverIdsParam([a, `${b},x`])).toEqual([a, b]);
    expect(serverIdsParam(undefined)).toEqual([]);
    expect(serverIdsParam(Array(300).fill(a).join(","))).toEqual([a]);
  });

  it("round-trips through withServers, bounded to 200", () => {
    expect(serverIdsParam(withServers("/runs/adhoc", [a, b]).split("servers=")[1])).toEqual([a, b]);
    expect(withServers("/runs/adhoc", [])).toBe("/runs/adhoc");
  });
});
