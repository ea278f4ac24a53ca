import net from "node:net";

/**
 * A loopback TCP proxy that injects the network faults an agent link meets in the field
 * (decision 0200). Every fault is switched on and off at run time and applies to the
 * connections open now and to later ones:
 *
 * - `drop()`: closes every open connection cleanly (FIN both ways), as a peer that exits.
 * - `reset()`: closes every open connection with a TCP RST, as a crashed peer or a NAT flush.
 * - `delay(ms)`: holds every chunk for `ms` each way, order kept.
 * - `bandwidth(bytesPerSecond)`: paces each direction to that rate (0: unlimited).
 * - `blackhole(true)`: bytes stop flowing both ways and are discarded, no socket is closed (no FIN,
 *   no RST): a host that lost power or a cut cable. New connections are accepted and blackholed too.
 * - `stall(true)`: the server side stops answering: bytes from the server are held (not lost)
 *   until `stall(false)`, as a server in a long GC pause or a starved VM.
 * - `refuse(true)`: new connections are reset at once (a server that is down).
 *
 * Bytes are never reordered or duplicated; with blackhole off they are never lost either.
 */
export interface FaultProxy {
  readonly port: number;
  /** Connections open now. */
  readonly open: number;
  /** Connections accepted since the start. */
  readonly accepted: number;
  /** Connections closed by drop() or reset() since the start. */
  readonly injected: number;
  drop(): number;
  reset(): number;
  delay(ms: number): void;
  bandwidth(bytesPerSecond: number): void;
  blackhole(on: boolean): void;
  stall(on: boolean): void;
  refuse(on: boolean): void;
  close(): Promise<void>;
}

interface Pipe {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  readonly flushers: Array<() => void>;
}

/** Above this many bytes waiting in one direction, the source is paused (bounded memory). */
const HIGH_WATER = 1024 * 1024;

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const pipes = new Set<Pipe>();
  const faults = { delayMs: 0, bytesPerSecond: 0, blackhole: false, stall: false, refuse: false };
  let accepted = 0;
  let injected = 0;

  /** One direction: a queue of chunks, each released at its time, to a destination. */
  const forward = (from: net.Socket, to: net.Socket, serverSide: boolean) => {
    const queue: Array<{ chunk: Buffer; at: number }> = [];
    let queued = 0;
    let lastAt = 0;
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const pump = () => {
      timer = undefined;
      if (serverSide && faults.stall) return;
      while (queue.length > 0) {
        const head = queue[0] as { chunk: Buffer; at: number };
        const wait = head.at - Date.now();
        if (wait > 0) {
          timer = setTimeout(pump, wait);
          return;
        }
        queue.shift();
        queued -= head.chunk.byteLength;
        if (!to.destroyed) to.write(head.chunk);
      }
      if (queued < HIGH_WATER && from.isPaused()) from.resume();
      if (ended && !to.destroyed) to.end();
    };
    from.on("data", (chunk: Buffer) => {
      if (faults.blackhole) return;
      const pace = faults.bytesPerSecond > 0 ? (chunk.byteLength * 1000) / faults.bytesPerSecond : 0;
      const at = Math.max(Date.now() + faults.delayMs, lastAt) + pace;
      lastAt = at;
      queue.push({ chunk, at });
      queued += chunk.byteLength;
      if (queued >= HIGH_WATER) from.pause();
      if (!timer) pump();
    });
    from.on("end", () => {
      if (faults.blackhole) return;
      ended = true;
      if (!timer) pump();
    });
    return () => {
      if (!timer) pump();
    };
  };

  const server = net.createServer((client) => {
    accepted += 1;
    if (faults.refuse) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    const pipe: Pipe = { client, upstream, flushers: [] };
    pipes.add(pipe);
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      socket.on("error", () => {
        // A reset or refused upstream: close the other side the same way.
        const other = socket === client ? upstream : client;
        if (!other.destroyed) other.resetAndDestroy();
      });
      socket.on("close", () => {
        const other = socket === client ? upstream : client;
        // A blackholed path never tells the other side anything.
        if (!faults.blackhole && !other.destroyed) other.destroySoon();
        if (client.destroyed && upstream.destroyed) pipes.delete(pipe);
      });
    }
    pipe.flushers.push(forward(client, upstream, false), forward(upstream, client, true));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  const closeAll = (how: (socket: net.Socket) => void) => {
    let count = 0;
    for (const pipe of pipes) {
      count += 1;
      how(pipe.client);
      how(pipe.upstream);
      pipes.delete(pipe);
    }
    injected += count;
    return count;
  };

  return {
    port: (server.address() as net.AddressInfo).port,
    get open() {
      return pipes.size;
    },
    get accepted() {
      return accepted;
    },
    get injected() {
      return injected;
    },
    drop: () =>
      closeAll((socket) => {
        socket.end();
        socket.destroySoon();
      }),
    reset: () => closeAll((socket) => (socket.destroyed ? undefined : socket.resetAndDestroy())),
    delay(ms) {
      faults.delayMs = ms;
    },
    bandwidth(bytesPerSecond) {
      faults.bytesPerSecond = bytesPerSecond;
    },
    blackhole(on) {
      faults.blackhole = on;
    },
    stall(on) {
      faults.stall = on;
      if (!on) for (const pipe of pipes) for (const flush of pipe.flushers) flush();
    },
    refuse(on) {
      faults.refuse = on;
    },
    async close() {
      for (const pipe of pipes) {
        pipe.client.destroy();
        pipe.upstream.destroy();
      }
      pipes.clear();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
