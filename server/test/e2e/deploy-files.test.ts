import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const deploy = new URL("../../../deploy/", import.meta.url).pathname;
const launcher = new URL("../../../bin/ocore-server", import.meta.url).pathname;

function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: { PATH: process.env.PATH ?? "", ...options.env }, cwd: options.cwd, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") return reject(error);
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

describe("deploy/compose/docker-compose.yml (Debian's docker-compose v1 `config`)", () => {
  const compose = path.join(deploy, "compose", "docker-compose.yml");
  const env = {
    POSTGRES_PASSWORD: "pw-for-the-test",
    OCORE_MASTER_KEY: Buffer.alloc(32, 1).toString("base64"),
    OCORE_AGENT_PUBLIC_ADDR: "ocore.example.com:8443",
  };

  it("is valid: server + PostgreSQL 16, health checks, volumes, the server hardened", async () => {
    const result = await run("docker-compose", ["-f", compose, "config"], { env });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const text = result.stdout;
    expect(text).toContain("image: postgres:16");
    expect(text.match(/healthcheck:/g)).toHaveLength(2);
    expect(text).toContain("condition: service_healthy");
    expect(text).toContain("DATABASE_URL: postgres://ocore:pw-for-the-test@postgres:5432/ocore");
    expect(text).toMatch(/postgres-data:\/var\/lib\/postgresql\/data/);
    expect(text).toMatch(/ocore-data:\/var\/lib\/ocore/);
    expect(text).toContain("read_only: true");
    expect(text).toContain("no-new-privileges:true");
    expect(text).toMatch(/^ {4}user: '?10001:10001'?$/m);
  });

  it("refuses to render without the required secrets, naming the one to set", async () => {
    const result = await run("docker-compose", ["-f", compose, "config"], {
      env: { ...env, POSTGRES_PASSWORD: "" },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("set POSTGRES_PASSWORD in .env");
  });
});

describe("deploy/systemd/ocore-server.service (systemd-analyze verify)", () => {
  /** The unit as installed, its ExecStart pointed at this checkout's launcher (verify checks that it exists). */
  function unitCopy(edit: (text: string) => string = (text) => text): { file: string; dir: string } {
    const dir = mkdtempSync(path.join(os.tmpdir(), "ocore-unit-"));
    const text = readFileSync(path.join(deploy, "systemd", "ocore-server.service"), "utf8");
    const file = path.join(dir, "ocore-server.service");
    writeFileSync(file, edit(text.replaceAll("/opt/ocore/bin/ocore-server", launcher)));
    return { file, dir };
  }

  it("verifies clean and is hardened (unprivileged, read-only system, no capabilities)", async () => {
    const { file, dir } = unitCopy();
    try {
      const result = await run("systemd-analyze", ["verify", file]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const text = readFileSync(path.join(deploy, "systemd", "ocore-server.service"), "utf8");
    for (const line of [
      "User=ocore",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "CapabilityBoundingSet=",
      "StateDirectory=ocore",
    ]) {
      expect(text.split("\n")).toContain(line);
    }
  });

  it("the check can fail: a misspelt key is reported", async () => {
    const { file, dir } = unitCopy((text) => text.replace("ProtectSystem=strict", "ProtectSystm=strict"));
    try {
      const result = await run("systemd-analyze", ["verify", file]);
      expect(result.stderr).toContain("Unknown key 'ProtectSystm'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
