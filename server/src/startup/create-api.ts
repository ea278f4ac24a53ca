import type { ContextValues, HandlerContext, Interceptor } from "@connectrpc/connect";
import { defaultAgentExecutable } from "../domain/agent-release/agent-release.js";
import type { AlertDeps } from "../domain/alerts/alert-deps.js";
import { type AuditFeed, createAuditFeed } from "../domain/audit/audit-feed.js";
import { createDenialAggregator, type DenialAggregator } from "../domain/audit/denial-aggregator.js";
import { createAccessTokens } from "../domain/auth/access-tokens.js";
import { createLoginLimiter, type LoginLimiter } from "../domain/auth/login-limiter.js";
import { type Authenticator, createAuthenticator } from "../domain/authentication/authenticate.js";
import type { BackupDeps } from "../domain/backups/backup-deps.js";
import type { CommandService } from "../domain/commands/command-service.js";
import type { DiagnosisDeps } from "../domain/diagnosis/diagnose.js";
import type { ReportExplainer } from "../domain/diagnosis/report-explainer.js";
import { createFleetFeed } from "../domain/fleet/fleet-feed.js";
import type { JoinDeps } from "../domain/joining/join-deps.js";
import type { MetricsRetention } from "../domain/metrics/rollups.js";
import type { TemplateDeps } from "../domain/runs/template-deps.js";
import type { LifecycleDeps } from "../domain/servers/lifecycle-deps.js";
import { createServerCountCache } from "../domain/servers/server-counts.js";
import { createLiveSessions, type LiveSessions } from "../domain/ssh-sessions/live-sessions.js";
import type { SystemInfo } from "../domain/system/system-info.js";
import type { Db } from "../platform/db/database.js";
import type { Logger } from "../platform/logging/logger.js";
import { createAgentReleaseService } from "../transports/api/agent-release-service.js";
import { createAlertService } from "../transports/api/alert-service.js";
import { createApiTokenService } from "../transports/api/api-token-service.js";
import { createAuditService } from "../transports/api/audit-service.js";
import { createAuthGate } from "../transports/api/auth-gate.js";
import { createAuthInterceptor } from "../transports/api/auth-interceptor.js";
import { createAuthService } from "../transports/api/auth-service.js";
import { createBackupService } from "../transports/api/backup-service.js";
import { createCommandApi } from "../transports/api/command-service.js";
import { createDiagnosisService } from "../transports/api/diagnosis-service.js";
import { createDockerService } from "../transports/api/docker-service.js";
import { createEnrollmentTokenService } from "../transports/api/enrollment-token-service.js";
import { createErrorInterceptor } from "../transports/api/error-interceptor.js";
import { createFleetService } from "../transports/api/fleet-service.js";
import { createInputInterceptor } from "../transports/api/input-interceptor.js";
import { createInstanceService } from "../transports/api/instance-service.js";
import { createJoinService } from "../transports/api/join-service.js";
import { createMetricsService } from "../transports/api/metrics-service.js";
import { createRecordingDownload, RECORDING_PATH_PREFIX } from "../transports/api/recording-download.js";
import { requestContextValues } from "../transports/api/request-context.js";
import { createRequestLogInterceptor } from "../transports/api/request-logger.js";
import type { ApiServices } from "../transports/api/routes.js";
import { createRunService } from "../transports/api/run-service.js";
import { createServerService } from "../transports/api/server-service.js";
import { createSshKeyService } from "../transports/api/ssh-key-service.js";
import { createSshSessionService } from "../transports/api/ssh-session-service.js";
import { createSystemService } from "../transports/api/system-service.js";
import { createTemplateService } from "../transports/api/template-service.js";
import { createUserService } from "../transports/api/user-service.js";
import type { RequestHandler } from "../transports/http/http-server.js";
import { createMcpHandler, MCP_PATH, PROTECTED_RESOURCE_PATH } from "../transports/mcp/mcp-http.js";

export interface ApiDeps {
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => Date;
  /** 32+ bytes that sign access tokens (derived from the master key). */
  readonly accessTokenKey: Uint8Array;
  readonly secureCookies: boolean;
  /** Failed sign-ins per source address; shared with the SSH gateway's password logins. */
  readonly loginLimiter?: LoginLimiter;
  readonly getSystemInfo: () => Promise<SystemInfo>;
  readonly metricsRetention: MetricsRetention;
  /** What enrollment tokens carry and point to: the CA pin and the gateway address. */
  readonly enrollment: { readonly caPin: string; readonly gatewayAddress: string };
  /** Onboarding and removal (credential keys, the provisioning worker); without it those RPCs are refused. */
  readonly serverLifecycle?: LifecycleDeps;
  /** The command runner of the agent channel (CommandService reads, cancels and watches through it). */
  readonly commands: CommandService;
  /** The agent executable hosts get (OCORE_AGENT_EXECUTABLE; default: the repository's build). */
  readonly agentExecutable?: string;
  /** Instances and backups (runner, backup store, background tasks); without it those RPCs are refused. */
  readonly instances?: BackupDeps;
  /** Alert rules and notification channels; without it those RPCs are refused. */
  readonly alerts?: AlertDeps;
  /** Command templates and batch runs (issue 17); without it those RPCs are refused. */
  readonly templates?: TemplateDeps;
  /** The SSH sessions open in this process (shared with the SSH gateway); default: none. */
  readonly liveSessions?: LiveSessions;
  /** Joining hosts from the host itself (JoinService); without it those RPCs are refused. */
  readonly joins?: JoinDeps;
  /** Diagnosis (issue 18): the optional language model that explains reports, and whether names are hidden from it. */
  readonly diagnosis?: {
    readonly explainer?: ReportExplainer;
    readonly anonymize: boolean;
    /** OCORE_PUBLIC_URL: the MCP protected-resource metadata names the endpoint under it. */
    readonly publicUrl?: string | undefined;
  };
}

export interface Api {
  readonly services: ApiServices;
  readonly interceptors: Interceptor[];
  /** Authenticates each request before its body is read. */
  readonly requestGate: (context: HandlerContext) => Promise<void>;
  readonly contextValues: (request: Parameters<RequestHandler>[0]) => ContextValues;
  readonly feed: AuditFeed;
  /** Authenticates a request's bearer token or session cookie (the console terminal's socket too). */
  readonly authenticator: Authenticator;
  /** Audits refused calls, aggregated (also the edge's other gates: /metrics). */
  readonly denials: DenialAggregator;
  /** Plain HTTP endpoints served next to the API (the recordings' .cast download). */
  readonly prefixRoutes: ReadonlyArray<readonly [prefix: string, handler: RequestHandler]>;
  /** Writes the denials still being counted (call after the listener closed). */
  close(): Promise<void>;
}

/** The Connect API: its services, and the interceptors every call passes (request log, errors, auth). */
export function createApi(deps: ApiDeps): Api {
  const { db, logger, now } = deps;
  const feed = createAuditFeed({ db, logger });
  // One count cache for ListServers and WatchFleet: a filter is counted once per few seconds.
  const counts = createServerCountCache();
  const accessTokens = createAccessTokens(deps.accessTokenKey);
  const authenticator = createAuthenticator({ db, accessTokens, now });
  const denials = createDenialAggregator({ db, logger, now, overflowAction: "access.denied" });
  const diagnosis: DiagnosisDeps = {
    db,
    retention: deps.metricsRetention,
    now,
    anonymize: deps.diagnosis?.anonymize ?? true,
    ...(deps.diagnosis?.explainer ? { explainer: deps.diagnosis.explainer } : {}),
  };
  const mcp = createMcpHandler({
    diagnosis,
    ...(deps.templates ? { templates: deps.templates } : {}),
    authenticator,
    logger,
    ...(deps.diagnosis?.publicUrl ? { publicUrl: deps.diagnosis.publicUrl } : {}),
  });
  return {
    services: {
      system: createSystemService({ getSystemInfo: deps.getSystemInfo }),
      auth: createAuthService({
        db,
        accessTokens,
        limiter: deps.loginLimiter ?? createLoginLimiter(),
        now,
        secureCookies: deps.secureCookies,
      }),
      users: createUserService({ db }),
      sshKeys: createSshKeyService({ db, now }),
      apiTokens: createApiTokenService({ db, now }),
      audit: createAuditService({ db, feed }),
      servers: createServerService({ db, lifecycle: deps.serverLifecycle, counts }),
      metrics: createMetricsService({ db, retention: deps.metricsRetention, now }),
      enrollmentTokens: createEnrollmentTokenService({ db, now, ...deps.enrollment }),
      joins: createJoinService(deps.joins),
      commands: createCommandApi({ db, commands: deps.commands }),
      agentRelease: createAgentReleaseService({
        db,
        commands: deps.commands,
        executablePath: deps.agentExecutable ?? defaultAgentExecutable(),
        now,
      }),
      fleet: createFleetService({ db, now, feed: createFleetFeed({ db, logger, counts }) }),
      docker: createDockerService({ db, commands: deps.commands, now }),
      instances: createInstanceService({ instances: deps.instances, commands: deps.commands }),
      backups: createBackupService({ instances: deps.instances }),
      alerts: createAlertService(deps.alerts),
      templates: createTemplateService(deps.templates),
      runs: createRunService(deps.templates),
      sshSessions: createSshSessionService({ db, liveSessions: deps.liveSessions ?? createLiveSessions() }),
      diagnosis: createDiagnosisService(diagnosis),
    },
    interceptors: [
      createRequestLogInterceptor(logger),
      createErrorInterceptor(logger),
      createAuthInterceptor({ db, authenticator, feed, denials, logger }),
      createInputInterceptor(),
    ],
    requestGate: createAuthGate({ authenticator, logger }),
    feed,
    authenticator,
    denials,
    prefixRoutes: [
      [RECORDING_PATH_PREFIX, createRecordingDownload({ db, authenticator, denials, logger })],
      [MCP_PATH, mcp],
      [PROTECTED_RESOURCE_PATH, mcp],
    ],
    close: () => denials.close(),
    contextValues: (request) =>
      requestContextValues({
        sourceIp: request.socket?.remoteAddress ?? "",
        userAgent: String(request.headers["user-agent"] ?? ""),
        secureTransport:
          "encrypted" in (request.socket ?? {}) &&
          Boolean((request.socket as { encrypted?: boolean }).encrypted),
      }),
  };
}
