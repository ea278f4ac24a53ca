import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP echo server that also remembers what it received and how each connection ended. */
async function startEcho() {
  const received: Buffer[] = [];
  const ends: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk);
      socket.write(chunk);
    });
    socket.on("end", () => {
      ends.push("end");
      socket.end();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => ends.push(error.code ?? "error"));
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    ends,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A client connection through the proxy that collects what comes back and how it ended. */
async function dial(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  const state = { data: Buffer.alloc(0), ended: "", closed: false };
  socket.on("data", (chunk: Buffer) => {
    state.data = Buffer.concat([state.data, chunk]);
  });
  socket.on("end", () => {
    state.ended ||= "end";
  });
  socket.on("error", (error: NodeJS.ErrnoException) => {
    state.ended ||= error.code ?? "error";
  });
  socket.on("close", () => {
    state.closed = true;
  });
  await new Promise((resolve) => socket.once("connect", resolve));
  return { socket, state };
}

async function until(check: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

describe("fault proxy", () => {
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let proxy: FaultProxy;
  afterEach(async () => {
    await proxy?.close();
    await echo?.close();
  });
  const start = async () => {
    echo = await startEcho();
    proxy = await startFaultProxy({ host: "127.0.0.1", port: echo.port });
  };

  it("passes bytes both ways unchanged, in order", async () => {
    await start();
    const { socket, state } = await dial(proxy.port);
    const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    socket.write(payload);
    await until(() => state.data.length === payload.length);
    expect(state.data.equals(payload)).toBe(true);
    expect(proxy.open).toBe(1);
  });

  it("drop closes both sides with a FIN", async () => {
    await start();
    const { state } = await dial(proxy.port);
    await until(() => proxy.open === 1);
    expect(proxy.drop()).toBe(1);
    await until(() => state.closed && echo.ends.length === 1);
    expect(state.ended).toBe("end");
    expect(echo.ends).toEqual(["end"]);
    expect(proxy.injected).toBe(1);
  });

  it("reset closes both sides with an RST", async () => {
    await start();
    const { state } = await dial(proxy.port);
    await until(() => proxy.open === 1);
    expect(proxy.reset()).toBe(1);
    await until(() => state.closed && echo.ends.length === 1);
    expect(state.ended).toBe("ECONNRESET");
    expect(echo.ends).toEqual(["ECONNRESET"]);
  });

  it("delay holds each chunk for the given time", async () => {
    await start();
    const { socket, state } = await dial(proxy.port);
    proxy.delay(300);
    const sentAt = Date.now();
    socket.write("ping");
    await until(() => state.data.length === 4);
    // Two hops of 300 ms each (to the server and back).
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(590);
  });

  it("bandwidth paces the bytes to the rate", async () => {
    await start();
    const { socket, state } = await dial(proxy.port);
    proxy.bandwidth(400_000);
    const sentAt = Date.now();
    socket.write(Buffer.alloc(200_000, 7));
    await until(() => state.data.length === 200_000);
    // 200 KB at 400 KB/s: at least 0.5 s for one direction.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(480);
  });

  it("blackhole discards traffic without closing anything, new connections included", async () => {
    await start();
    const { socket, state } = await dial(proxy.port);
    socket.write("before");
    await until(() => state.data.toString() === "before");
    proxy.blackhole(true);
    socket.write("during");
    const late = await dial(proxy.port);
    late.socket.write("late");
    await sleep(500);
    expect(state.data.toString()).toBe("before");
    expect(Buffer.concat(echo.received).toString()).toBe("before");
    expect(late.state.data.length).toBe(0);
    // Even an end from the client never reaches the server: no FIN, no RST anywhere.
    socket.end();
    await sleep(300);
    expect(echo.ends).toEqual([]);
    expect(late.state.closed).toBe(false);
  });

  it("stall holds the server's bytes and delivers them all after it", async () => {
    await start();
    const { socket, state } = await dial(proxy.port);
    proxy.stall(true);
    socket.write("one");
    socket.write("two");
    await until(() => Buffer.concat(echo.received).toString() === "onetwo");
    await sleep(300);
    expect(state.data.length).toBe(0);
    proxy.stall(false);
    await until(() => state.data.toString() === "onetwo");
  });

  it("refuse resets new connections, and lets them through again after", async () => {
    await start();
    proxy.refuse(true);
    const refused = net.connect(proxy.port, "127.0.0.1");
    const outcome = await new Promise<string>((resolve) => {
      refused.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      refused.on("close", () => resolve("closed"));
    });
    expect(["ECONNRESET", "closed"]).toContain(outcome);
    proxy.refuse(false);
    const { socket, state } = await dial(proxy.port);
    socket.write("back");
    await until(() => state.data.toString() === "back");
  });
});
