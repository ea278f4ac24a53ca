import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  /** The request's path and query (e.g. /bot123:abc/sendMessage). */
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
  readonly signatureValid: boolean;
  readonly at: number;
}

export type ReceiverMode = "ok" | "fail500" | "hang";

export interface WebhookReceiver {
  readonly url: string;
  /** Every request received (before answering), in order. */
  readonly received: ReceivedWebhook[];
  /** How the next requests are answered: 200, 500, or never (the connection is held). */
  mode: ReceiverMode;
  /** Idempotency keys seen, each once: what a deduplicating receiver would process. */
  uniqueKeys(): string[];
  /** Answers every held request with 200 now. */
  releaseHeld(): void;
  close(): Promise<void>;
}

/** A real HTTP receiver on loopback that checks X-Ocore-Signature against `secret`. */
export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const held = new Set<http.ServerResponse>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const raw = Buffer.concat(chunks);
      const expected = `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;
      const given = String(request.headers["x-ocore-signature"] ?? "");
      const signatureValid =
        given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
      received.push({
        path: request.url ?? "",
        headers: request.headers,
        body: JSON.parse(raw.toString("utf8")),
        signatureValid,
        at: Date.now(),
      });
      if (receiver.mode === "hang") {
        held.add(response);
        response.on("close", () => held.delete(response));
        return;
      }
      response.writeHead(receiver.mode === "ok" ? 200 : 500, { "content-type": "text/plain" });
      response.end(receiver.mode === "ok" ? "ok" : "receiver is down");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/hooks/ocore`,
    received,
    mode: "ok",
    uniqueKeys: () => [...new Set(received.map((r) => String(r.headers["x-ocore-idempotency-key"])))],
    releaseHeld() {
      for (const response of held) {
        response.writeHead(200);
        response.end("ok");
      }
      held.clear();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}
