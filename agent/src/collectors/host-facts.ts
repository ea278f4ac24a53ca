import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { HostFacts } from "@ocore/proto/host-facts.js";

/** Parses os-release(5): KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1]) values.set(match[1], (match[2] ?? "").replace(/^(["'])(.*)\1$/, "$2"));
  }
  return values;
}

/** What the agent tells the server about its host in Hello. */
export async function readHostFacts(
  options: { procRoot?: string; osReleasePaths?: readonly string[] } = {},
): Promise<HostFacts> {
  const procRoot = options.procRoot ?? "/proc";
  let osRelease = new Map<string, string>();
  for (const candidate of options.osReleasePaths ?? ["/etc/os-release", "/usr/lib/os-release"]) {
    const text = await readFile(candidate, "utf8").catch(() => undefined);
    if (text !== undefined) {
      osRelease = parseOsRelease(text);
      break;
    }
  }
  const stat = await readFile(path.join(procRoot, "stat"), "utf8");
  const btime = /^btime (\d+)$/m.exec(stat)?.[1];
  const cores = stat.split("\n").filter((line) => /^cpu\d+ /.test(line)).length;
  const memTotalKb = /^MemTotal:\s+(\d+) kB$/m.exec(
    await readFile(path.join(procRoot, "meminfo"), "utf8"),
  )?.[1];
  return {
    hostname: os.hostname(),
    osId: osRelease.get("ID") ?? "linux",
    osVersion: osRelease.get("VERSION_ID") ?? "",
    kernel: os.release(),
    architecture: os.machine(),
    bootedAt: btime ? new Date(Number(btime) * 1000).toISOString() : null,
    cpuCores: cores,
    memoryTotalBytes: memTotalKb ? Number(memTotalKb) * 1024 : os.totalmem(),
  };
}
