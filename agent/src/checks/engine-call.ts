import { request } from "node:http";

/** What the Engine answered: its status and its body as text. */
export interface EngineAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * One Engine API call over the unix socket (any method, optional JSON body), bounded by
 * `timeoutMs`: the checks must never hang on a daemon that stopped answering.
 */
export function engineCall(
  socketPath: string,
  method: string,
  path: string,
  options: { readonly body?: unknown; readonly timeoutMs: number },
): Promise<EngineAnswer> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const call = request(
      {
        socketPath,
        path,
        method,
        headers: payload ? { "content-type": "application/json" } : undefined,
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    call.on("error", reject);
    call.end(payload);
  });
}

/** The Engine's own error message from an error body ({"message": "..."}), else the body. */
export function engineMessage(answer: EngineAnswer): string {
  try {
    const parsed = JSON.parse(answer.body) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // not JSON: the body itself
  }
  return answer.body.trim().slice(0, 200);
}
