import { Duplex, Writable } from "node:stream";
import WebSocket from "ws";
import type { DownChannel } from "../ssh-gateway/session-relay.js";
import type { ServerMessage } from "./terminal-protocol.js";

/** Sends one JSON message, if the socket is still open. */
export function sendMessage(ws: WebSocket, message: ServerMessage): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

/**
 * The browser's side of a terminal session as the gateway's relay expects a client channel:
 * what the host prints goes out as binary frames (each write completes when the socket took
 * it, so a browser that stops reading holds the host back through the SSH window), the user's
 * input is pushed in by the caller, stderr goes out too and its `oCore:` notices also as
 * `notice` messages, the exit status as an `exit` message.
 */
export class SocketChannel extends Duplex implements DownChannel {
  readonly stderr: Writable;

  constructor(private readonly ws: WebSocket) {
    super({ allowHalfOpen: true, writableHighWaterMark: 64 * 1024 });
    this.stderr = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        const notice = /oCore: ([^\r\n]+)/.exec(chunk.toString("utf8"))?.[1];
        if (notice) sendMessage(ws, { type: "notice", message: notice });
        this.sendBinary(chunk, callback);
      },
    });
  }

  private sendBinary(chunk: Buffer, callback: () => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) {
      callback();
      return;
    }
    this.ws.send(chunk, { binary: true }, () => callback());
  }

  /** The user's input, from an `input` message. */
  input(data: string): void {
    if (!this.destroyed) this.push(Buffer.from(data, "utf8"));
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.sendBinary(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, "session ended");
    callback();
  }

  exit(status: number): void;
  exit(signalName: string, coreDumped?: boolean, msg?: string): void;
  exit(statusOrSignal: number | string): void {
    sendMessage(this.ws, { type: "exit", code: typeof statusOrSignal === "number" ? statusOrSignal : null });
  }
}
