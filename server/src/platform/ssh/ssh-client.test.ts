import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../test/support/free-port.js";
import { generateUserKey, type SshdHost, startSshdHost } from "../../../test/support/sshd-host.js";
import { isHostKeyFingerprint } from "./host-key.js";
import { shellQuote } from "./shell-quote.js";
import { createSshConnector, type SshConnection } from "./ssh-client.js";
import { SshError } from "./ssh-error.js";

const PASSWORD = "s3cret pass'word";

describe("the SSH client against a real sshd", () => {
  let sshd: SshdHost;
  const key = generateUserKey();
  const encryptedKey = generateUserKey("key passphrase");
  const otherKey = generateUserKey();
  const connector = createSshConnector({ timeouts: { connectMs: 2_000, handshakeMs: 5_000 } });

  beforeAll(async () => {
    sshd = await startSshdHost([
      { publicKey: key.publicKey },
      { password: PASSWORD },
      { publicKey: encryptedKey.publicKey },
    ]);
  });
  afterAll(() => sshd?.stop());

  const target = (index: number) => ({
    host: sshd.host,
    port: sshd.port,
    username: sshd.users[index]?.username ?? "",
  });

  async function failure(run: () => Promise<SshConnection>): Promise<SshError> {
    const error = await run().then(
      async (connection) => {
        await connection.close();
        throw new Error("expected the connection to fail");
      },
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(SshError);
    return error as SshError;
  }

  it("logs in with a key, reports the host key as OpenSSH does, runs commands with exit codes", async () => {
    const connection = await connector.connect({
      target: target(0),
      credentials: { kind: "private_key", privateKey: key.privateKey },
      pinnedHostKey: null,
    });
    try {
      expect(isHostKeyFingerprint(connection.hostKey.fingerprint)).toBe(true);
      expect(connection.hostKey).toEqual({
        fingerprint: sshd.hostKeyFingerprint(),
        algorithm: "ssh-ed25519",
      });
      const echoed = await connection.exec(["printf", "%s|", "a b", "it's", "$(id)", ";rm -rf /"]);
      expect(echoed).toMatchObject({ exitCode: 0, stdout: "a b|it's|$(id)|;rm -rf /|", truncated: false });
      const failed = await connection.exec(["sh", "-c", "echo oops >&2; exit 3"]);
      expect(failed).toMatchObject({ exitCode: 3, stderr: "oops\n" });
      const capped = await connection.exec(["head", "-c", "100000", "/dev/zero"], { maxOutputBytes: 1000 });
      expect(capped.stdout.length).toBe(1000);
      expect(capped.truncated).toBe(true);
      const fed = await connection.exec(["cat"], { stdin: "from stdin" });
      expect(fed.stdout).toBe("from stdin");
    } finally {
      await connection.close();
    }
  });

  it("logs in with a password and with an encrypted key and its passphrase; uploads with a mode", async () => {
    const byPassword = await connector.connect({
      target: target(1),
      credentials: { kind: "password", password: PASSWORD },
      pinnedHostKey: sshd.hostKeyFingerprint(),
    });
    try {
      const home = sshd.users[1]?.home ?? "";
      await byPassword.upload({ data: Buffer.from("#!/bin/sh\necho uploaded\n") }, `${home}/run.sh`, {
        mode: 0o700,
      });
      const ran = await byPassword.exec([`${home}/run.sh`]);
      expect(ran.stdout).toBe("uploaded\n");
      const mode = await byPassword.exec(["stat", "-c", "%a", `${home}/run.sh`]);
      expect(mode.stdout.trim()).toBe("700");
    } finally {
      await byPassword.close();
    }
    const byEncryptedKey = await connector.connect({
      target: target(2),
      credentials: { kind: "private_key", privateKey: encryptedKey.privateKey, passphrase: "key passphrase" },
      pinnedHostKey: null,
    });
    await byEncryptedKey.close();
  });

  it("classifies a wrong password, a wrong key and a wrong passphrase as auth_failed", async () => {
    const wrongPassword = await failure(() =>
      connector.connect({
        target: target(1),
        credentials: { kind: "password", password: "nope" },
        pinnedHostKey: null,
      }),
    );
    expect(wrongPassword.reason).toBe("auth_failed");
    expect(wrongPassword.message).toMatch(/refused the credentials; check the user name/);
    const wrongKey = await failure(() =>
      connector.connect({
        target: target(0),
        credentials: { kind: "private_key", privateKey: otherKey.privateKey },
        pinnedHostKey: null,
      }),
    );
    expect(wrongKey.reason).toBe("auth_failed");
    const wrongPassphrase = await failure(() =>
      connector.connect({
        target: target(2),
        credentials: { kind: "private_key", privateKey: encryptedKey.privateKey, passphrase: "wrong" },
        pinnedHostKey: null,
      }),
    );
    expect(wrongPassphrase.reason).toBe("auth_failed");
    expect(wrongPassphrase.message).toMatch(/private key cannot be used/);
  });

  it("classifies a closed port, an unknown name and a silent port as unreachable, each saying why", async () => {
    const closed = await freePort();
    const refused = await failure(() =>
      connector.connect({
        target: { host: "127.0.0.1", port: closed, username: "x" },
        credentials: { kind: "password", password: "x" },
        pinnedHostKey: null,
      }),
    );
    expect(refused.reason).toBe("unreachable");
    expect(refused.message).toMatch(/refused the connection/);
    const unknown = await failure(() =>
      connector.connect({
        target: { host: "no-such-host.invalid", port: 22, username: "x" },
        credentials: { kind: "password", password: "x" },
        pinnedHostKey: null,
      }),
    );
    expect(unknown.reason).toBe("unreachable");
    expect(unknown.message).toMatch(/was not found \(DNS\)/);

    // A listener that accepts TCP but never speaks SSH: the handshake limit ends it.
    const { createServer } = await import("node:net");
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    const quick = createSshConnector({ timeouts: { connectMs: 1_000, handshakeMs: 1_500 } });
    const stuck = await failure(() =>
      quick.connect({
        target: { host: "127.0.0.1", port, username: "x" },
        credentials: { kind: "password", password: "x" },
        pinnedHostKey: null,
      }),
    );
    silent.close();
    expect(stuck.reason).toBe("unreachable");
    expect(stuck.message).toMatch(/did not complete the SSH handshake within 2 s \(timeout\)/);
    expect(Date.now() - started).toBeLessThan(4_000);

    // An address nobody answers (TEST-NET-1, RFC 5737): the TCP connect limit ends it.
    const blackHoled = await failure(() =>
      quick.connect({
        target: { host: "192.0.2.1", port: 22, username: "x" },
        credentials: { kind: "password", password: "x" },
        pinnedHostKey: null,
      }),
    );
    expect(blackHoled.reason).toBe("unreachable");
    expect(blackHoled.message).toMatch(
      /did not answer within 1 s \(timeout\)|not reachable|refused the connection/,
    );
  });

  it("ends a command that runs too long", async () => {
    const connection = await connector.connect({
      target: target(0),
      credentials: { kind: "private_key", privateKey: key.privateKey },
      pinnedHostKey: null,
    });
    try {
      const started = Date.now();
      await expect(connection.exec(["sleep", "30"], { timeoutMs: 500 })).rejects.toMatchObject({
        reason: "command_timeout",
      });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect((await connection.exec(["true"])).exitCode).toBe(0);
    } finally {
      await connection.close();
    }
  });

  it("ends uploads and commands in flight when the connection is closed (a job that is stopped)", async () => {
    const home = sshd.users[0]?.home ?? "";
    for (const closeAfterMs of [0, 50, 300]) {
      const connection = await connector.connect({
        target: target(0),
        credentials: { kind: "private_key", privateKey: key.privateKey },
        pinnedHostKey: null,
      });
      const started = Date.now();
      const upload = connection.upload({ data: Buffer.alloc(64 * 1024 * 1024) }, `${home}/big.bin`, {
        mode: 0o600,
      });
      const command = connection.exec(["sleep", "30"]);
      await new Promise((resolve) => setTimeout(resolve, closeAfterMs));
      await connection.close();
      const [uploaded, ran] = await Promise.allSettled([upload, command]);
      // The command is cut short: an error, or a result without an exit status.
      if (ran.status === "fulfilled") expect(ran.value.exitCode).toBeNull();
      else expect(ran.reason).toBeInstanceOf(SshError);
      if (uploaded.status === "rejected") expect(uploaded.reason).toBeInstanceOf(SshError);
      expect(Date.now() - started).toBeLessThan(10_000);
    }
  });

  it("refuses a changed host key, naming both fingerprints", async () => {
    const pinned = sshd.hostKeyFingerprint();
    await sshd.replaceHostKey();
    const changed = sshd.hostKeyFingerprint();
    expect(changed).not.toBe(pinned);
    const refused = await failure(() =>
      connector.connect({
        target: target(0),
        credentials: { kind: "private_key", privateKey: key.privateKey },
        pinnedHostKey: pinned,
      }),
    );
    expect(refused.reason).toBe("host_key_mismatch");
    expect(refused.message).toContain(changed);
    expect(refused.message).toContain(pinned);
    expect(refused.presentedHostKey).toEqual({ fingerprint: changed, algorithm: "ssh-ed25519" });
    const accepted = await connector.connect({
      target: target(0),
      credentials: { kind: "private_key", privateKey: key.privateKey },
      pinnedHostKey: changed,
    });
    await accepted.close();
  });
});

describe("shellQuote", () => {
  it("quotes what a shell would interpret and leaves plain words", () => {
    expect(shellQuote(["/opt/x/install.sh", "--server", "host:8443", "it's $HOME"])).toBe(
      `/opt/x/install.sh --server host:8443 'it'\\''s $HOME'`,
    );
    expect(shellQuote([""])).toBe("''");
    expect(() => shellQuote(["a\0b"])).toThrow(/NUL/);
  });
});
