import { Duplex } from "node:stream";

/**
 * A ProxyJump channel as the socket of a nested SSH connection served by the same process.
 * ssh2's chacha20-poly1305 keeps its nonce in module-wide buffers and writes in the middle of
 * encrypting a packet: a nested connection writing straight into the outer channel would run the
 * outer connection's encryption inside its own and corrupt it. So every write and every read is
 * handed on at the next tick (in order, with back-pressure).
 */
export class JumpSocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: string;

  constructor(
    private readonly channel: Duplex,
    address: { remoteAddress: string; remotePort: number; remoteFamily: string },
  ) {
    super();
    this.remoteAddress = address.remoteAddress;
    this.remotePort = address.remotePort;
    this.remoteFamily = address.remoteFamily;
    channel.on("data", (chunk: Buffer) => {
      const copy = Buffer.from(chunk);
      process.nextTick(() => {
        if (!this.destroyed && !this.push(copy)) channel.pause();
      });
    });
    channel.on("end", () => process.nextTick(() => this.push(null)));
    channel.on("close", () => process.nextTick(() => this.destroy()));
    channel.on("error", (error: Error) => this.destroy(error));
  }

  override _read(): void {
    this.channel.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    process.nextTick(() => {
      if (this.channel.destroyed) return callback();
      if (this.channel.write(chunk)) callback();
      else this.channel.once("drain", () => callback());
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    process.nextTick(() => {
      this.channel.end();
      callback();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.channel.destroy();
    callback(error);
  }

  setNoDelay(): this {
    return this;
  }
}
