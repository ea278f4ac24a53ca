import ssh2 from "ssh2";
import { describe, expect, it } from "vitest";
import { generateEd25519 } from "./gateway-keys.js";

describe("gateway key generation", () => {
  it("only hands out pairs ssh2 can read back (its generator makes about one bad pair in 256)", () => {
    // Without the check, 2,000 pairs hold a malformed one with a probability above 99.9 %.
    for (let i = 0; i < 2_000; i++) {
      const pair = generateEd25519();
      expect(ssh2.utils.parseKey(pair.private)).not.toBeInstanceOf(Error);
      expect(ssh2.utils.parseKey(pair.public)).not.toBeInstanceOf(Error);
    }
  });
});
