import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../platform/logging/logger.js";
import { showFirstAdminPassword } from "./first-admin-notice.js";

const firstAdmin = { username: "admin", password: "Sup3rSecretOneTimePw" };

function setUp(isTTY: boolean) {
  const log: string[] = [];
  const terminal: string[] = [];
  const logger = createLogger(
    "info",
    new Writable({
      write(chunk, _encoding, done) {
        log.push(String(chunk));
        done();
      },
    }),
  );
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocore-first-admin-"));
  const options = {
    firstAdmin,
    dataDir,
    logger,
    terminal: { isTTY, write: (text: string) => terminal.push(text) },
  };
  return { log, terminal, dataDir, options };
}

describe("the first admin's one-time password", () => {
  it("is shown on the terminal when there is one, and never logged", () => {
    const { log, terminal, dataDir, options } = setUp(true);
    expect(showFirstAdminPassword(options)).toBeUndefined();
    expect(terminal.join("")).toContain(`with the one-time password ${firstAdmin.password}`);
    expect(log.join("")).not.toContain(firstAdmin.password);
    expect(log.join("")).toContain("shown on the terminal");
    expect(() => statSync(path.join(dataDir, "first-admin-password"))).toThrow();
  });

  it("goes to a file only this user can read otherwise, whose path (not the password) is logged", () => {
    const { log, terminal, dataDir, options } = setUp(false);
    const file = path.join(dataDir, "first-admin-password");
    writeFileSync(file, "stale", { mode: 0o644 }); // left by an earlier install
    expect(showFirstAdminPassword(options)).toBe(file);
    expect(readFileSync(file, "utf8")).toBe(`${firstAdmin.password}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(log.join(""))).toMatchObject({ level: 30, file, username: "admin" });
    expect(log.join("")).not.toContain(firstAdmin.password);
    expect(terminal.join("")).toContain(`one-time password in ${file}`);
    expect(terminal.join("")).not.toContain(firstAdmin.password);
  });
});
