import { createHash, timingSafeEqual } from "node:crypto";
import type { Logger } from "../../platform/logging/logger.js";
import type { NodeHandler } from "./api-adapter.js";

type Response = Parameters<NodeHandler>[1];

function send(response: Response, status: number, headers: Record<string, string>, body: string): void {
  response.statusCode = status;
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response.setHeader("cache-control", "no-store");
  response.end(body);
}

const TEXT = "text/plain; charset=utf-8";

export interface MetricsHandlerOptions {
  /** The bearer token a scraper must send (OCORE_METRICS_TOKEN). */
  readonly token: string;
  readonly contentType: string;
  readonly render: () => Promise<string>;
  /** Audits a refused scrape (wrong or missing token). */
  readonly onDenied: (denial: { sourceIp: string; userAgent: string; reason: string }) => Promise<void>;
  readonly logger: Logger;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * GET /metrics for Prometheus: only with `Authorization: Bearer <OCORE_METRICS_TOKEN>` (compared
 * in constant time); anything else is a 401 and an audited denial.
 */
export function createMetricsHandler(options: MetricsHandlerOptions): NodeHandler {
  const expected = digest(options.token);
  return (request, response) => {
    const header = String(request.headers.authorization ?? "");
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const sourceIp = request.socket?.remoteAddress ?? "";
    const userAgent = String(request.headers["user-agent"] ?? "").slice(0, 256);
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      const reason = header === "" ? "no bearer token" : "wrong bearer token";
      send(
        response,
        401,
        { "content-type": TEXT, "www-authenticate": "Bearer" },
        "unauthenticated: /metrics needs Authorization: Bearer <OCORE_METRICS_TOKEN>\n",
      );
      options.onDenied({ sourceIp, userAgent, reason }).catch((error: unknown) => {
        options.logger.error({ err: error }, "could not audit a refused /metrics scrape");
      });
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      send(response, 405, { allow: "GET, HEAD", "content-type": TEXT }, "method not allowed\n");
      return;
    }
    options.render().then(
      (body) => {
        send(response, 200, { "content-type": options.contentType }, request.method === "HEAD" ? "" : body);
      },
      (error: unknown) => {
        options.logger.error({ err: error }, "could not render /metrics");
        send(response, 503, { "content-type": TEXT }, "metrics unavailable\n");
      },
    );
  };
}
