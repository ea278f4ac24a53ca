import { type IncomingMessage, request } from "node:http";

/**
 * A few plain GETs of the Engine API over its unix socket, for what runs all the time (the
 * instance watch): dockerode, with its protobufjs and tar dependencies, stays out of the idle
 * agent's memory and is loaded by the command handlers on their first command.
 */
export interface EngineClient {
  readonly socketPath: string;
  /** GET `path` as JSON; rejects with `statusCode` set when the Engine answers other than 200. */
  getJson<T>(path: string, signal: AbortSignal): Promise<T>;
  /** GET `path` and hand over the response body (a stream of newline-separated JSON, e.g. /events). */
  stream(path: string, signal: AbortSignal): Promise<IncomingMessage>;
}

/** An Engine answer other than 200, with Docker's own message. */
export class EngineStatusError extends Error {
  override name = "EngineStatusError";
  constructor(
    readonly statusCode: number,
    path: string,
    body: string,
  ) {
    super(`docker GET ${path} answered ${statusCode}: ${body.trim().slice(0, 300)}`);
  }
}

export function createEngineClient(socketPath: string): EngineClient {
  const open = (path: string, signal: AbortSignal) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const call = request({ socketPath, path, method: "GET", signal }, resolve);
      call.on("error", reject);
      call.end();
    });
  const body = async (response: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  return {
    socketPath,
    async getJson<T>(path: string, signal: AbortSignal) {
      const response = await open(path, signal);
      const text = await body(response);
      if (response.statusCode !== 200) throw new EngineStatusError(response.statusCode ?? 0, path, text);
      return JSON.parse(text) as T;
    },
    async stream(path, signal) {
      const response = await open(path, signal);
      if (response.statusCode !== 200) {
        throw new EngineStatusError(response.statusCode ?? 0, path, await body(response));
      }
      return response;
    },
  };
}

/** `?filters=…` for the Engine API (label, type, event… each a list of values). */
export function filtersQuery(filters: Record<string, readonly string[]>): string {
  return `filters=${encodeURIComponent(JSON.stringify(filters))}`;
}
