import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Principal } from "../auth/principal.js";
import { parseSelector } from "../auth/selector.js";
import { parseUserPublicKey } from "../ssh-keys/public-key.js";
import { createSessionCounter } from "./session-limits.js";
import { allowedLogins } from "./ssh-access.js";
import { parseSshTarget } from "./ssh-target.js";

function keygen(type: string, bits?: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocore-keytest-"));
  try {
    const file = path.join(dir, "key");
    execFileSync("ssh-keygen", [
      "-q",
      "-t",
      type,
      ...(bits ? ["-b", String(bits)] : []),
      "-N",
      "",
      "-C",
      "me@laptop",
      "-f",
      file,
    ]);
    return readFileSync(`${file}.pub`, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("SSH gateway rules", () => {
  it("reads user+server[+login] and answers a wrong username with the syntax", () => {
    expect(parseSshTarget("alice+web-1")).toEqual({ user: "alice", server: "web-1", login: undefined });
    expect(parseSshTarget("alice+web-1+odoo")).toEqual({ user: "alice", server: "web-1", login: "odoo" });
    expect(parseSshTarget("alice")).toEqual({ user: "alice", server: undefined, login: undefined });
    for (const bad of ["alice+web-1+odoo+x", "alice+we b", "alice+web-1+Root!", "+web-1"]) {
      const parsed = parseSshTarget(bad);
      expect("error" in parsed && parsed.error).toMatch(/user\+server\[\+login\]@gateway/);
    }
  });

  it("accepts ed25519, ecdsa and rsa >= 3072 keys and refuses shorter rsa, private keys and junk", () => {
    const ed = parseUserPublicKey(keygen("ed25519"));
    expect(ed).toMatchObject({ algorithm: "ssh-ed25519", comment: "me@laptop" });
    expect(ed.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(parseUserPublicKey(keygen("ecdsa", 256)).algorithm).toBe("ecdsa-sha2-nistp256");
    expect(parseUserPublicKey(keygen("rsa", 3072)).algorithm).toBe("ssh-rsa");
    expect(() => parseUserPublicKey(keygen("rsa", 2048))).toThrow(/RSA key of 2048 bits; at least 3072/);
    expect(() => parseUserPublicKey("-----BEGIN OPENSSH PRIVATE KEY-----")).toThrow(/private key/);
    expect(() => parseUserPublicKey("ssh-dss AAAA")).toThrow(/not accepted/);
    expect(() => parseUserPublicKey("ssh-ed25519 bm90IGEga2V5")).toThrow(/not a readable/);
  });

  it("allows the server's own login by default, listed logins, or any with *", () => {
    const principal = (sshLogins: string[], selector = ""): Principal => ({
      kind: "user",
      id: "u",
      name: "alice",
      mustChangePassword: false,
      grants: [
        {
          permissions: new Set(["servers.ssh"]),
          selector: selector ? parseSelector(selector) : undefined,
          sshLogins,
        },
      ],
    });
    const server = { sshUser: "deploy", tags: { env: "prod" } };
    expect(allowedLogins(principal([]), "servers.ssh", server)).toEqual({ any: false, logins: ["deploy"] });
    expect(allowedLogins(principal(["odoo"]), "servers.ssh", server)).toEqual({
      any: false,
      logins: ["odoo"],
    });
    expect(allowedLogins(principal(["*"]), "servers.ssh", server).any).toBe(true);
    expect(allowedLogins(principal(["odoo"], "env=staging"), "servers.ssh", server).logins).toEqual([]);
  });

  it("refuses past the per-user and per-host caps, naming the setting and its value", () => {
    const counter = createSessionCounter({ maxSessionsPerUser: 2, maxSessionsPerHost: 3 });
    const a = counter.acquire("user:a", "s1");
    counter.acquire("user:a", "s1");
    expect(() => counter.acquire("user:a", "s2")).toThrow(
      /limit of 2 open SSH sessions per user \(OCORE_SSH_MAX_SESSIONS_PER_USER\)/,
    );
    counter.acquire("user:b", "s1");
    expect(() => counter.acquire("user:c", "s1")).toThrow(
      /limit of 3 open SSH sessions per host \(OCORE_SSH_MAX_SESSIONS_PER_HOST\)/,
    );
    a.release();
    a.release();
    expect(counter.count({ user: "user:a" })).toBe(1);
    expect(() => counter.acquire("user:c", "s1")).not.toThrow();
  });
});
