import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AgentConfigError, loadAgentConfig } from "./config.js";

describe("loadAgentConfig", () => {
  it("has defaults for everything but the server address", () => {
    expect(loadAgentConfig({}, "/")).toEqual({
      server: undefined,
      stateDir: "/var/lib/ocore-agent",
      logLevel: "info",
      metricsIntervalMs: 10_000,
      spoolMaxBytes: 16 * 1024 * 1024,
      dockerSocket: "/var/run/docker.sock",
      reconnectMaxMs: 60_000,
      checkIntervalMs: 30_000,
      startCheckEveryMs: 21_600_000,
    });
  });

  it("reads every documented setting", () => {
    const config = loadAgentConfig(
      {
        OCORE_AGENT_SERVER: "ocore.example.com:8443",
        OCORE_AGENT_STATE_DIR: "state",
        OCORE_AGENT_LOG_LEVEL: "debug",
        OCORE_AGENT_METRICS_INTERVAL_SECONDS: "30",
        OCORE_AGENT_SPOOL_MAX_BYTES: "2097152",
        OCORE_AGENT_DOCKER_SOCKET: "off",
        OCORE_AGENT_RECONNECT_MAX_SECONDS: "5",
      },
      "/opt",
    );
    expect(config).toEqual({
      server: "ocore.example.com:8443",
      stateDir: "/opt/state",
      logLevel: "debug",
      metricsIntervalMs: 30_000,
      spoolMaxBytes: 2 * 1024 * 1024,
      dockerSocket: undefined,
      reconnectMaxMs: 5_000,
      checkIntervalMs: 30_000,
      startCheckEveryMs: 21_600_000,
    });
  });

  it.each([
    [{ OCORE_AGENT_SERVER: "https://x" }, "OCORE_AGENT_SERVER"],
    [{ OCORE_AGENT_METRICS_INTERVAL_SECONDS: "0" }, "OCORE_AGENT_METRICS_INTERVAL_SECONDS"],
    [{ OCORE_AGENT_LOG_LEVEL: "chatty" }, "OCORE_AGENT_LOG_LEVEL"],
    [{ OCORE_AGENT_SPOOL_MAX_BYTES: "1000" }, "OCORE_AGENT_SPOOL_MAX_BYTES"],
    [{ OCORE_AGENT_DOCKER_SOCKET: "docker.sock" }, "OCORE_AGENT_DOCKER_SOCKET"],
    [{ OCORE_AGENT_RECONNECT_MAX_SECONDS: "0" }, "OCORE_AGENT_RECONNECT_MAX_SECONDS"],
    [{ OCORE_AGENT_SERVR: "x:1" }, "OCORE_AGENT_SERVR"],
  ])("refuses %j naming the setting", (env, setting) => {
    expect(() => loadAgentConfig(env)).toThrow(AgentConfigError);
    expect(() => loadAgentConfig(env)).toThrow(new RegExp(`^${setting}: `));
  });

  it("documents every setting in config.example.env", () => {
    const example = readFileSync(new URL("../../config.example.env", import.meta.url), "utf8");
    for (const name of [
      "OCORE_AGENT_SERVER",
      "OCORE_AGENT_STATE_DIR",
      "OCORE_AGENT_LOG_LEVEL",
      "OCORE_AGENT_METRICS_INTERVAL_SECONDS",
      "OCORE_AGENT_SPOOL_MAX_BYTES",
      "OCORE_AGENT_DOCKER_SOCKET",
      "OCORE_AGENT_RECONNECT_MAX_SECONDS",
    ]) {
      expect(example).toMatch(new RegExp(`^(# )?${name}=`, "m"));
    }
  });
});
