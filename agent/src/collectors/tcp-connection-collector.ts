import { readFile } from "node:fs/promises";
import path from "node:path";

export interface TcpConnectionCollector {
  collect(): Promise<number>;
}

/** The kernel's TCP_LISTEN state in the `st` column of /proc/net/tcp. */
const listenState = "0A";

/** Counts the sockets of a /proc/net/tcp{,6} table that are not listening. */
export function countTcpConnections(text: string): number {
  let count = 0;
  const lines = text.split("\n");
  // Line 0 is the header; columns: sl local_address rem_address st …
  for (let index = 1; index < lines.length; index++) {
    const state = lines[index]?.trim().split(/\s+/, 4)[3];
    if (state && state !== listenState) count++;
  }
  return count;
}

/** TCP connections of the host's network namespace, IPv4 and IPv6, all states but LISTEN. */
export function createTcpConnectionCollector(options: { procRoot?: string } = {}): TcpConnectionCollector {
  const procRoot = options.procRoot ?? "/proc";
  const readTable = (name: string) =>
    // tcp6 is absent when IPv6 is disabled.
    readFile(path.join(procRoot, "net", name), "utf8").catch(() => "");
  return {
    async collect() {
      const [v4, v6] = await Promise.all([readTable("tcp"), readTable("tcp6")]);
      return countTcpConnections(v4) + countTcpConnections(v6);
    },
  };
}
