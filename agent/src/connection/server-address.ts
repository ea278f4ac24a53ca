/** A control server's agent gateway address, `host:port` or `[v6]:port`. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  /** As given, for logs and grpc-js targets. */
  readonly text: string;
}

export function parseServerAddress(text: string): ServerAddress {
  const match = /^\[([0-9a-fA-F:]+)\]:(\d{1,5})$|^([^\s:/[\]]+):(\d{1,5})$/.exec(text.trim());
  const host = match?.[1] ?? match?.[3];
  const port = Number(match?.[2] ?? match?.[4]);
  if (!host || !(port > 0 && port < 65536)) {
    throw new Error(`"${text}" is not an address: expected host:port, e.g. ocore.example.com:8443`);
  }
  return { host, port, text: text.trim() };
}
