import type { DenialAggregator } from "../domain/audit/denial-aggregator.js";
import type { ServerTelemetry } from "../domain/telemetry/server-telemetry.js";
import type { Config } from "../platform/config/config.js";
import { componentLogger, type Logger } from "../platform/logging/logger.js";
import type { RequestHandler } from "../transports/http/http-server.js";
import { createMetricsHandler } from "../transports/http/metrics-handler.js";

/** GET /metrics when OCORE_METRICS_TOKEN is set; undefined (the endpoint is off) otherwise. */
export function metricsEndpoint(
  config: Config,
  logger: Logger,
  telemetry: ServerTelemetry,
  denials: DenialAggregator,
): RequestHandler | undefined {
  const token = config.metricsExport.token;
  if (token === undefined) return undefined;
  return createMetricsHandler({
    token,
    contentType: telemetry.contentType,
    render: () => telemetry.render(),
    logger: componentLogger(logger, "metrics-export"),
    onDenied: ({ sourceIp, userAgent, reason }) =>
      denials.record({
        key: `metrics.scrape|${sourceIp}`,
        context: { actor: { type: "token", id: "", name: "metrics scraper" }, sourceIp, userAgent },
        event: {
          action: "metrics.scrape",
          targetType: "",
          targetId: "",
          detail: `/metrics refused: ${reason}`,
        },
      }),
  });
}
