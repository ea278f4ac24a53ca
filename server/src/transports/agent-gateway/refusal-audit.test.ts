import { describe, expect, it } from "vitest";
import { addressOfPeer } from "./refusal-audit.js";

describe("the source address of a grpc-js peer", () => {
  it.each([
    ["127.0.0.1:51234", "127.0.0.1"],
    ["ipv4:10.0.0.5:443", "10.0.0.5"],
    ["[::1]:51234", "::1"],
    ["ipv6:[2001:db8::7]:8443", "2001:db8::7"],
    ["2001:db8::7", "2001:db8::7"],
    ["unix:/run/ocore.sock", "unix:/run/ocore.sock"],
  ])("%s → %s", (peer, address) => {
    expect(addressOfPeer(peer)).toBe(address);
  });
});
