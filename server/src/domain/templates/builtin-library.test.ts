import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUILTIN_TEMPLATES } from "./builtin-library.js";
import type { HostContext } from "./host-context.js";
import { renderForHost } from "./render-for-host.js";
import { parseDefinition, resolveParameters } from "./template-definition.js";

/**
 * Every built-in template is a valid definition, and its script, rendered for a host and started
 * exactly as the agent starts it (interpreter, -c, script, argv; the rendered environment), calls
 * the host's tools with the expected arguments. The tools (docker, systemctl, journalctl,
 * apt-get) are stubs that record their argv; df and awk are the real ones.
 */
const stubs = mkdtempSync(path.join(os.tmpdir(), "ocore-builtin-"));
const log = path.join(stubs, "calls.log");
for (const tool of ["docker", "systemctl", "journalctl", "apt-get"]) {
  const file = path.join(stubs, tool);
  writeFileSync(
    file,
    `#!/bin/sh\nprintf '%s' "${tool}" >> "${log}"; for a in "$@"; do printf ' [%s]' "$a" >> "${log}"; done; echo >> "${log}"\n` +
      (tool === "apt-get"
        ? 'if [ "$1" = -s ]; then echo "Inst libc6 [2.36-9] (2.36-9+deb12u9 Debian:12.9/stable)"; fi\n'
        : ""),
  );
  chmodSync(file, 0o755);
}
afterAll(() => rmSync(stubs, { recursive: true, force: true }));

const host = (osId = "debian"): HostContext => ({
  id: "00000000-0000-4000-8000-000000000001",
  name: "web-1",
  status: "active",
  lastSeenAt: null,
  tags: {},
  facts: {
    hostname: "web-1",
    osId,
    osVersion: "12",
    kernel: "6.1",
    architecture: "amd64",
    cpuCores: 2,
    memoryTotalBytes: 2 ** 31,
    bootedAt: null,
  },
  instances: ["shop"],
  ports: ["10000"],
});

function run(key: string, given: Record<string, string>, target = host()) {
  const builtin = BUILTIN_TEMPLATES.find((t) => t.key === key);
  if (!builtin) throw new Error(`no built-in ${key}`);
  const definition = parseDefinition(builtin.definition);
  const rendered = renderForHost(definition, resolveParameters(definition, given), target);
  if (!rendered.ok) throw new Error(rendered.reason);
  writeFileSync(log, "");
  const [file, ...args] = rendered.render.command;
  const result = spawnSync(file as string, args, {
    env: { ...rendered.render.env, PATH: `${stubs}:/usr/bin:/bin` },
    encoding: "utf8",
  });
  return {
    title: rendered.render.title,
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    calls: readFileSync(log, "utf8").trim().split("\n").filter(Boolean),
  };
}

describe("built-in template library", () => {
  it("has six valid definitions with tests below", () => {
    expect(BUILTIN_TEMPLATES.map((t) => t.key)).toEqual([
      "builtin.disk-usage",
      "builtin.docker-prune",
      "builtin.odoo-module-update",
      "builtin.restart-service",
      "builtin.collect-logs",
      "builtin.debian-updates",
    ]);
  });

  it("disk usage: the real df, with filesystems over the threshold flagged", () => {
    const out = run("builtin.disk-usage", { warn_percent: "1" });
    expect(out.title).toBe("Disk usage report for web-1");
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/Filesystem\s+Type\s+Size/);
    expect(out.stdout).toMatch(/WARNING: \/\S* is \d+% full|no filesystem above 1%/);
  });

  it("docker prune: asks for confirmation, removes volumes only when asked", () => {
    const definition = parseDefinition(BUILTIN_TEMPLATES[1]?.definition);
    expect(() => resolveParameters(definition, { what: "all" })).toThrow("parameters.confirm: is required");
    expect(() => resolveParameters(definition, { what: "all", confirm: "false" })).toThrow("must be true");
    expect(run("builtin.docker-prune", { what: "all", volumes: "true", confirm: "true" }).calls).toEqual([
      "docker [system] [prune] [--all] [--volumes] [--force]",
      "docker [system] [df]",
    ]);
    expect(run("builtin.docker-prune", { what: "images", confirm: "true" }).calls[0]).toBe(
      "docker [image] [prune] [--all] [--force]",
    );
  });

  it("odoo module update: only an instance of that host, modules as one argument", () => {
    const out = run("builtin.odoo-module-update", { instance: "shop", modules: "sale,stock" });
    expect(out.title).toBe("Update Odoo modules of shop on web-1");
    expect(out.calls).toEqual([
      "docker [exec] [ocore-shop-odoo] [odoo] [-c] [/etc/odoo/odoo.conf] [-d] [odoo] [-u] [sale,stock] [--stop-after-init] [--no-http]",
      "docker [restart] [ocore-shop-odoo]",
    ]);
    expect(() => run("builtin.odoo-module-update", { instance: "crm", modules: "sale" })).toThrow(
      '"crm" is not one of this host\'s instances (shop)',
    );
    expect(() => run("builtin.odoo-module-update", { instance: "shop", modules: "sale;reboot" })).toThrow(
      "parameters.modules",
    );
  });

  it("restart a service: the unit as one argument after --", () => {
    const out = run("builtin.restart-service", { service: "nginx.service" });
    expect(out.calls).toEqual([
      "systemctl [restart] [--] [nginx.service]",
      "systemctl [is-active] [--] [nginx.service]",
    ]);
    expect(() => run("builtin.restart-service", { service: "-x;reboot" })).toThrow("parameters.service");
  });

  it("collect logs: a bounded window of one unit's journal", () => {
    expect(
      run("builtin.collect-logs", { unit: "ocore-agent.service", since: "6h", lines: "50" }).calls,
    ).toEqual([
      "journalctl [--no-pager] [--output=short-iso] [--since=-6h] [--lines=50] [--unit=ocore-agent.service]",
    ]);
    expect(run("builtin.collect-logs", {}).calls).toEqual([
      "journalctl [--no-pager] [--output=short-iso] [--since=-1h] [--lines=500]",
    ]);
  });

  it("debian updates: lists by default, upgrades only when confirmed, refuses other systems", () => {
    const list = run("builtin.debian-updates", {});
    expect(list.status).toBe(0);
    expect(list.calls).toEqual(["apt-get [update] [-qq]", "apt-get [-s] [upgrade]"]);
    expect(list.stdout).toContain("Inst libc6");
    expect(run("builtin.debian-updates", { mode: "upgrade" }).status).toBe(2);
    expect(run("builtin.debian-updates", { mode: "upgrade", confirm: "true" }).calls[1]).toBe(
      "apt-get [-y] [-o] [Dpkg::Options::=--force-confold] [-o] [Dpkg::Options::=--force-confdef] [upgrade]",
    );
    const alpine = run("builtin.debian-updates", {}, host("alpine"));
    expect(alpine.status).toBe(3);
    expect(alpine.stderr).toContain("not a Debian or Ubuntu host (alpine)");
  });
});
