import { readFile } from "node:fs/promises";
import path from "node:path";
import {
  HostListeningPortsResultSchema,
  HostListeningPortsSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { defineHandler } from "../commands/command-handler.js";

/** The `st` column value of a socket in LISTEN state. */
const TCP_LISTEN = "0A";

/** The listening ports in one /proc/net/tcp or tcp6 table (its text). */
export function parseListeningPorts(table: string): number[] {
  const ports: number[] = [];
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (!local || fields[3] !== TCP_LISTEN) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
    if (Number.isInteger(port) && port > 0) ports.push(port);
  }
  return ports;
}

/** The host's listening TCP ports (IPv4 and IPv6), ascending; a missing table counts as empty. */
export async function readListeningPorts(procRoot = "/proc"): Promise<number[]> {
  const tables = await Promise.all(
    ["tcp", "tcp6"].map((name) => readFile(path.join(procRoot, "net", name), "utf8").catch(() => "")),
  );
  return [...new Set(tables.flatMap(parseListeningPorts))].sort((a, b) => a - b);
}

export function listeningPortsHandler(procRoot = "/proc") {
  return defineHandler({
    input: HostListeningPortsSchema,
    output: HostListeningPortsResultSchema,
    run: async () => ({ ports: await readListeningPorts(procRoot) }),
  });
}
