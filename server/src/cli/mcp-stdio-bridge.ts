import type { Readable, Writable } from "node:stream";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";

/**
 * MCP over stdio for clients that only start processes (`ocore admin mcp-stdio`): relays each
 * JSON-RPC message between stdin/stdout and the server's /mcp endpoint, with the API token as
 * bearer. Authentication, RBAC and audit stay in the server: this process holds no rights and
 * opens no database. Resolves when stdin ends or the endpoint closes.
 */
export async function runMcpStdioBridge(options: {
  readonly url: string;
  readonly token: string;
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  readonly onError?: (error: Error) => void;
}): Promise<void> {
  const stdio = new StdioServerTransport(options.stdin, options.stdout);
  const http = new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: { headers: { authorization: `Bearer ${options.token}` } },
  });
  const report = options.onError ?? (() => {});
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  stdio.onmessage = (message) => {
    http.send(message).catch((error: unknown) => {
      report(error as Error);
      // Answer the request so the client is not left waiting.
      if ("id" in message && "method" in message) {
        void stdio.send({
          jsonrpc: "2.0",
          id: message.id,
          error: { code: -32000, message: (error as Error).message },
        });
      }
    });
  };
  http.onmessage = (message) => {
    void stdio.send(message);
  };
  stdio.onerror = report;
  http.onerror = report;
  stdio.onclose = finish;
  http.onclose = finish;
  options.stdin?.once("end", finish);
  await http.start();
  await stdio.start();
  await done;
  await Promise.allSettled([http.close(), stdio.close()]);
}
