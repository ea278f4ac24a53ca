import type { AddressInfo } from "node:net";
import os from "node:os";
import { sql } from "drizzle-orm";
import { createAccessTokens } from "../domain/auth/access-tokens.js";
import { createLoginLimiter } from "../domain/auth/login-limiter.js";
import { createBackupScheduler } from "../domain/backups/backup-scheduler.js";
import { createBackupDeps } from "../domain/backups/create-backup-deps.js";
import { ensureInstallation } from "../domain/installation/ensure-installation.js";
import { createBackgroundTasks } from "../domain/instances/background-tasks.js";
import { resumeInstanceTasks } from "../domain/instances/delete-instance.js";
import { defaultDeployDir, startProvisioning } from "../domain/provisioning/start-provisioning.js";
import { startSessionRecording } from "../domain/ssh-sessions/session-recorder.js";
import { getSystemInfo } from "../domain/system/system-info.js";
import { createServerTelemetry } from "../domain/telemetry/server-telemetry.js";
import { ensureFirstAdmin } from "../domain/users/ensure-first-admin.js";
import { ensureBuiltinRoles } from "../domain/users/roles.js";
import { createChatCompletionsExplainer } from "../platform/ai/chat-completions-explainer.js";
import type { Config } from "../platform/config/config.js";
import { createDatabase } from "../platform/db/database.js";
import { prepareEmbeddedDatabase } from "../platform/db/embedded-database.js";
import { componentLogger, type Logger } from "../platform/logging/logger.js";
import { deriveKey } from "../platform/pki/derive-key.js";
import { installationKeyId } from "../platform/pki/installation-key-id.js";
import { createMasterKeyring, loadOrCreateMasterKey } from "../platform/pki/master-key.js";
import { createApiRoutes } from "../transports/api/routes.js";
import {
  type ConsoleHandler,
  createConsoleHandler,
  defaultWebDir,
} from "../transports/http/console-handler.js";
import { createHttpServer } from "../transports/http/http-server.js";
import { createJoinHandler } from "../transports/http/join-handler.js";
import { createWebTerminal } from "../transports/web-terminal/web-terminal.js";
import { createApi } from "./create-api.js";
import { createJoinDeps } from "./create-join-deps.js";
import { prepareDataDir } from "./data-dir.js";
import { describeDatabaseFailure } from "./database-errors.js";
import { describeListenFailure } from "./listen-errors.js";
import { metricsEndpoint } from "./metrics-endpoint.js";
import { startAgentChannel } from "./start-agent-channel.js";
import { startAlerts } from "./start-alerts.js";
import { createSshGatewayDeps, type SshGateway, startSshGateway } from "./start-ssh-gateway.js";
import { startSshRecordings } from "./start-ssh-recordings.js";
import { startTemplates } from "./start-templates.js";

export interface RunningServer {
  readonly address: AddressInfo;
  /** The URL users open: OCORE_PUBLIC_URL, or the listen address. */
  readonly url: string;
  /** Set on the very first start: the first admin's one-time password, to show once (never log it). */
  readonly firstAdmin: { readonly username: string; readonly password: string } | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly version: string;
  readonly now?: () => Date;
}

/**
 * Starts every part of the control server in order. When a step fails, the parts already
 * started are stopped again in reverse order before the error (a ConfigError naming the
 * setting to fix, where there is one) reaches the caller: nothing is left half-started.
 */
export async function startServer({
  config,
  logger,
  version,
  now = () => new Date(),
}: StartOptions): Promise<RunningServer> {
  const stack: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const close of stack.reverse().splice(0)) {
      try {
        await close();
      } catch (error) {
        logger.warn({ err: error }, "error while stopping");
      }
    }
  };

  try {
    const startedAt = now();
    const lock = prepareDataDir(config.dataDir, { embedded: config.database.kind === "pglite" });
    stack.push(() => lock.release());

    try {
      await prepareEmbeddedDatabase(config.database);
    } catch (error) {
      throw describeDatabaseFailure(config.database, error);
    }
    const database = createDatabase(config.database);
    stack.push(() => database.close());
    let installationId: string;
    try {
      await database.migrate();
      installationId = (await ensureInstallation(database.db)).id;
    } catch (error) {
      throw describeDatabaseFailure(config.database, error);
    }
    logger.info({ database: database.kind, installationId }, "database ready");

    let consoleHandler: ConsoleHandler | undefined;
    if (config.console.enabled) {
      consoleHandler = await createConsoleHandler(config.console.webDir ?? defaultWebDir());
      stack.push(() => consoleHandler?.close());
    }

    const keyring = createMasterKeyring(
      loadOrCreateMasterKey({
        configured: config.masterKey.current,
        dataDir: config.dataDir,
        logger,
        sealedWith: await installationKeyId(database.db),
      }),
      config.masterKey.previous,
    );
    await ensureBuiltinRoles(database.db);
    const firstAdmin = await ensureFirstAdmin(database.db);
    const telemetry = createServerTelemetry({
      db: database.db,
      maxHostSeries: config.metricsExport.maxHostSeries,
      dbPoolMax: config.database.kind === "postgres" ? config.database.poolSize : undefined,
      now,
    });
    const agentChannel = await startAgentChannel({
      telemetry,
      config,
      db: database.db,
      keyring,
      installationId,
      logger,
      version,
      now,
    });
    stack.push(() => agentChannel.close());
    telemetry.setAgentsConnected(agentChannel.agentsConnected);
    const provisioning = startProvisioning({
      config,
      db: database.db,
      logger,
      now,
      masterKeyring: keyring,
      caPin: agentChannel.pki.caPin,
      commands: agentChannel.commands,
    });
    stack.push(() => provisioning.stop());
    const instances = createBackupDeps({
      db: database.db,
      runner: agentChannel.commands,
      store: agentChannel.backupStore,
      tasks: createBackgroundTasks(componentLogger(logger, "instances")),
      logger: componentLogger(logger, "instances"),
      images: config.instances.images,
      now,
      // Agents push their instance states: Get/List read them instead of asking each time.
      statesPushed: agentChannel.gateway.pushesInstanceStates,
    });
    const resumed = await resumeInstanceTasks(instances);
    if (resumed.failed + resumed.resumed > 0) {
      logger.info(resumed, "resolved instance tasks left by the last run");
    }
    const backupScheduler = createBackupScheduler(instances);
    backupScheduler.start();
    stack.push(() => backupScheduler.stop());
    const alerts = startAlerts({ config, db: database.db, logger, now, masterKeyring: keyring });
    stack.push(() => alerts.stop());
    const templates = await startTemplates({
      db: database.db,
      logger,
      now,
      commands: agentChannel.commands,
      isLive: (serverId) => agentChannel.registry.get(serverId)?.live === true,
    });
    stack.push(() => templates.stop());
    const accessTokenKey = deriveKey(keyring.current, "ocore access tokens v1");
    const loginLimiter = createLoginLimiter();
    const sshRecordings = startSshRecordings({ config, db: database.db, logger, now });
    stack.push(() => sshRecordings.stop());
    // The SSH listener and the console terminal share these (one session counter, one recorder).
    const sshSessionDeps = createSshGatewayDeps({
      db: database.db,
      logger: componentLogger(logger, "ssh-gateway"),
      now,
      keyring,
      accessTokens: createAccessTokens(accessTokenKey),
      limiter: loginLimiter,
      limits: config.sshGateway.limits,
      tunnels: agentChannel.sshTunnels,
      recording: {
        start: (db, start) => startSessionRecording(db, start, sshRecordings.settings),
        live: sshRecordings.liveSessions,
      },
    });
    let sshGateway: SshGateway | undefined;
    if (config.sshGateway.listen) {
      sshGateway = await startSshGateway({
        ...sshSessionDeps,
        accessTokens: sshSessionDeps.identity.accessTokens,
        limiter: loginLimiter,
        listen: config.sshGateway.listen,
        publicHost: config.publicUrl ? new URL(config.publicUrl).hostname : os.hostname(),
        deps: sshSessionDeps,
      });
      stack.push(() => sshGateway?.close());
    }
    const joins = createJoinDeps({
      config,
      db: database.db,
      pki: agentChannel.pki,
      now,
      deployDir: defaultDeployDir(),
    });
    const api = createApi({
      loginLimiter,
      joins,
      instances,
      metricsRetention: config.metricsRetention,
      enrollment: { caPin: agentChannel.pki.caPin, gatewayAddress: config.agent.publicAddress },
      commands: agentChannel.commands,
      agentExecutable: config.agent.executable,
      serverLifecycle: {
        db: database.db,
        sshKeyring: provisioning.sshKeyring,
        now,
        onJobQueued: () => provisioning.wake(),
      },
      alerts: alerts.deps,
      templates: templates.deps,
      liveSessions: sshRecordings.liveSessions,
      diagnosis: {
        anonymize: config.ai.anonymize,
        publicUrl: config.publicUrl,
        ...(config.ai.endpoint
          ? {
              explainer: createChatCompletionsExplainer({
                endpoint: config.ai.endpoint,
                model: config.ai.model,
                apiKey: config.ai.apiKey,
                timeoutMs: config.ai.timeoutMs,
              }),
            }
          : {}),
      },
      db: database.db,
      logger,
      now,
      accessTokenKey,
      secureCookies: config.publicUrl?.startsWith("https:") ?? false,
      getSystemInfo: () =>
        getSystemInfo({
          db: database.db,
          databaseKind: database.kind,
          version,
          startedAt,
          installationId,
          now,
          sshGateway: sshGateway?.info,
        }),
    });
    stack.push(() => api.close());
    const webTerminal = createWebTerminal({
      gateway: sshSessionDeps,
      authenticator: api.authenticator,
      denials: api.denials,
      logger: componentLogger(logger, "web-terminal"),
      publicUrl: config.publicUrl,
    });
    stack.push(() => webTerminal.close());
    const http = createHttpServer({
      logger,
      routes: createApiRoutes(api.services, { readMaxBytes: config.apiMaxRequestBytes }),
      interceptors: api.interceptors,
      readMaxBytes: config.apiMaxRequestBytes,
      connectTimeoutMs: config.connectTimeoutMs,
      requestGate: api.requestGate,
      contextValues: api.contextValues,
      prefixRoutes: api.prefixRoutes,
      readiness: async () => {
        await database.db.execute(sql`select 1`);
      },
      join: createJoinHandler(joins, componentLogger(logger, "join")),
      fallback: consoleHandler?.handle,
      metrics: metricsEndpoint(config, logger, telemetry, api.denials),
      upgrade: webTerminal.handleUpgrade,
    });
    let address: AddressInfo;
    try {
      address = await http.listen(config.http.host, config.http.port);
    } catch (error) {
      throw describeListenFailure(config.http.host, config.http.port, error);
    }
    stack.push(() => http.close());

    return { address, url: config.publicUrl ?? urlOf(address), firstAdmin, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function urlOf(address: AddressInfo): string {
  const unspecified = address.address === "0.0.0.0" || address.address === "::";
  const host = unspecified
    ? "localhost"
    : address.family === "IPv6"
      ? `[${address.address}]`
      : address.address;
  return `http://${host}:${address.port}`;
}
