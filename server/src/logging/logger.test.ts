import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";

describe("the server logger", () => {
  it("never writes SSH secrets, tokens or passwords found in logged objects", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const secrets = {
      password: "pw-1",
      passphrase: "pp-2",
      token: "tk-3",
      secret: "sc-4",
      privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----",
    };
    createLogger("info", destination).info({ request: secrets }, "creating a server");
    const written = lines.join("");
    expect(written).toContain("creating a server");
    for (const value of Object.values(secrets)) expect(written).not.toContain(value);
    expect(written.match(/\[redacted\]/g)).toHaveLength(5);
  });
});
