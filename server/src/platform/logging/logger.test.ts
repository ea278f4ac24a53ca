import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { bindLogger, componentLogger, createLogger } from "./logger.js";

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

describe("component loggers", () => {
  const capture = () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    return { lines, destination };
  };

  it("name their component once, however deep they were derived, and keep the other fields", () => {
    const { lines, destination } = capture();
    const root = createLogger("debug", destination);
    const instances = componentLogger(root, "instances");
    const scheduler = componentLogger(instances.child({ serverId: "s-1" }), "backup-scheduler", {
      owner: "me",
    });
    scheduler.debug("started");
    const line = lines.join("");
    expect(line.match(/"component":/g)).toHaveLength(1);
    expect(line.match(/"service":/g)).toHaveLength(1);
    expect(JSON.parse(line)).toMatchObject({
      component: "backup-scheduler",
      serverId: "s-1",
      owner: "me",
      service: "ocore-server",
      msg: "started",
    });
  });

  it("keep the level of the logger they derive from", () => {
    const { lines, destination } = capture();
    const quiet = componentLogger(createLogger("info", destination), "a");
    quiet.level = "warn";
    componentLogger(quiet, "b").info("hidden");
    componentLogger(quiet, "b").warn("shown");
    expect(lines).toHaveLength(1);
    expect(bindLogger(quiet, { component: "c" }).bindings()).toEqual({
      service: "ocore-server",
      component: "c",
    });
  });
});
