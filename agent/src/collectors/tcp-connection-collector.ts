import { open } from "node:fs/promises";
import path from "node:path";

export interface TcpConnectionCollector {
  collect(): Promise<number>;
}

/** The kernel's TCP_LISTEN state in the `st` column of /proc/net/tcp. */
const listenState = "0A";

/**
 * The tables are read this much at a time: a busy host (thousands of sockets, TIME_WAIT
 * included) has tables of megabytes, which read whole would be large short-lived strings in the
 * agent's heap on every sample.
 */
const CHUNK_BYTES = 16 * 1024;

/** Counts the sockets in whole lines of a /proc/net/tcp{,6} table that are not listening. */
function countRows(lines: readonly string[], from: number): number {
  let count = 0;
  // Columns: sl local_address rem_address st …
  for (let index = from; index < lines.length; index++) {
    const state = lines[index]?.trim().split(/\s+/, 4)[3];
    if (state && state !== listenState) count++;
  }
  return count;
}

/** Counts the sockets of a /proc/net/tcp{,6} table that are not listening. */
export function countTcpConnections(text: string): number {
  return countRows(text.split("\n"), 1); // line 0 is the header
}

/** Counts a table's non-listening sockets chunk by chunk; 0 when it is absent (no IPv6). */
async function countTable(file: string, buffer: Buffer): Promise<number> {
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return 0;
  try {
    let count = 0;
    let header = true;
    let partial = "";
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
      if (bytesRead === 0) break;
      const lines = (partial + buffer.toString("latin1", 0, bytesRead)).split("\n");
      partial = lines.pop() ?? ""; // a line the next chunk completes
      if (lines.length === 0) continue;
      count += countRows(lines, header ? 1 : 0);
      header = false;
    }
    return count + (header ? 0 : countRows([partial], 0));
  } finally {
    await handle.close();
  }
}

/** TCP connections of the host's network namespace, IPv4 and IPv6, all states but LISTEN. */
export function createTcpConnectionCollector(options: { procRoot?: string } = {}): TcpConnectionCollector {
  const procRoot = options.procRoot ?? "/proc";
  const buffer = Buffer.alloc(CHUNK_BYTES);
  return {
    async collect() {
      // One after the other: they share the buffer.
      const v4 = await countTable(path.join(procRoot, "net", "tcp"), buffer);
      return v4 + (await countTable(path.join(procRoot, "net", "tcp6"), buffer));
    },
  };
}
