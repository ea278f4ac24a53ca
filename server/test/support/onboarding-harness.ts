import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Client, createClient, createRouterTransport } from "@connectrpc/connect";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { InstanceService } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import { JoinService } from "@ocore/proto/gen/ocore/api/v1/join_service_pb.js";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { pino } from "pino";
import { defaultAgentExecutable, loadAgentRelease } from "../../src/domain/agent-release/agent-release.js";
import { createBackupDeps } from "../../src/domain/backups/create-backup-deps.js";
import { createBackgroundTasks } from "../../src/domain/instances/background-tasks.js";
import { createAgentUninstaller } from "../../src/domain/provisioning/agent-uninstaller.js";
import type { ProvisioningDeps } from "../../src/domain/provisioning/job-context.js";
import {
  type ProvisioningWorker,
  startProvisioningWorker,
  type WorkerTiming,
} from "../../src/domain/provisioning/provisioning-worker.js";
import { productRequirements, type Requirements } from "../../src/domain/provisioning/requirements.js";
import { defaultDeployDir } from "../../src/domain/provisioning/start-provisioning.js";
import { ensureFirstAdmin } from "../../src/domain/users/ensure-first-admin.js";
import { ensureBuiltinRoles } from "../../src/domain/users/roles.js";
import { loadConfig } from "../../src/platform/config/config.js";
import type { DatabaseKind } from "../../src/platform/db/database.js";
import { createMasterKeyring } from "../../src/platform/pki/master-key.js";
import { createSshConnector } from "../../src/platform/ssh/ssh-client.js";
import { createSshKeyring } from "../../src/platform/ssh/ssh-credentials.js";
import { createApi } from "../../src/startup/create-api.js";
import { createJoinDeps } from "../../src/startup/create-join-deps.js";
import { type AgentChannel, startAgentChannel } from "../../src/startup/start-agent-channel.js";
import { createApiRoutes } from "../../src/transports/api/routes.js";
import { createHttpServer, type HttpServer } from "../../src/transports/http/http-server.js";
import { createJoinHandler } from "../../src/transports/http/join-handler.js";
import { STRONG_PASSWORD } from "./api-harness.js";
import { createTestDatabase, type TestDatabase } from "./test-databases.js";

const logger = pino({ level: process.env.OCORE_TEST_LOG ?? "silent" });

export interface OnboardingOptions {
  /** Oldest Docker accepted (this machine runs 20.10; the product wants 24.0). */
  readonly requirements?: Requirements;
  readonly agentWaitMs?: number;
  /** The gateway address handed to agents (default: the real one; tests point it elsewhere). */
  readonly gatewayAddress?: string;
  readonly timing?: Partial<WorkerTiming>;
  readonly installMode?: "auto" | "systemd" | "supervised";
  /** The gateway listens on all addresses and agents dial this host (a container reaching this machine). */
  readonly agentHost?: string;
  /** Where the agent goes on a host; default: a directory per server under this harness's data directory. */
  readonly installPrefix?: string;
  /** Also serve the API and the join endpoints over HTTP (on all addresses with agentHost). */
  readonly http?: boolean;
}

export interface OnboardingHarness {
  readonly database: TestDatabase;
  readonly channel: AgentChannel;
  readonly servers: Client<typeof ServerService>;
  readonly joins: Client<typeof JoinService>;
  /** Instances on the onboarded hosts, through their real agents (images from the default settings). */
  readonly instances: Client<typeof InstanceService>;
  /** The HTTP port of the API and the join endpoints (with the `http` option; else 0). */
  readonly httpPort: number;
  /** Where server `id`'s agent is installed on this machine. */
  prefixOf(serverId: string): string;
  /** Stops the worker as a server shutdown would (jobs are given back), or starts a new one. */
  stopWorker(): Promise<void>;
  startWorker(): void;
  close(): Promise<void>;
}

/** Waits until an onboarded server is `active`; throws with its status message when it fails (or after 120 s). */
export async function waitUntilActive(harness: OnboardingHarness, serverId: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const server = (await harness.servers.getServer({ id: serverId })).server;
    if (server?.status === "active") return;
    if (server?.status === "failed" || Date.now() > deadline)
      throw new Error(`server ${server?.status}: ${server?.statusMessage}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/**
 * The parts of a control server that onboarding touches, in this process: a database, the real
 * agent channel (PKI, mTLS gateway, command runner) on a loopback port, the API with its
 * interceptors (signed in as the owner), and the provisioning worker with the real SSH client.
 * Each server's agent goes under its own prefix, so several test hosts share this machine.
 */
export async function startOnboarding(
  kind: DatabaseKind,
  options: OnboardingOptions = {},
): Promise<OnboardingHarness> {
  const database = await createTestDatabase(kind);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocore-onboarding-"));
  const installRoot = path.join(dataDir, "hosts");
  const now = () => new Date();
  const masterKey = randomBytes(32).toString("base64");
  const keyring = createMasterKeyring(masterKey);
  const config = loadConfig(
    {
      OCORE_DATA_DIR: dataDir,
      OCORE_AGENT_ADDR: options.agentHost ? "0.0.0.0:0" : "127.0.0.1:0",
      OCORE_AGENT_HOSTNAMES: [
        "localhost",
        "127.0.0.1",
        ...(options.agentHost ? [options.agentHost] : []),
      ].join(","),
      OCORE_MASTER_KEY: masterKey,
    },
    { hostname: "localhost" },
  );
  const channel = await startAgentChannel({
    config,
    db: database.db,
    keyring,
    installationId: "00000000-onboarding-test",
    logger,
    version: "0.0.0-test",
    now,
  });
  const sshKeyring = createSshKeyring({
    configured: { current: undefined, previous: [] },
    masterKeys: [keyring.current],
  });
  const release = await loadAgentRelease(defaultAgentExecutable());
  const prefixOf = (serverId: string) => options.installPrefix ?? path.join(installRoot, serverId);
  const deps: ProvisioningDeps = {
    db: database.db,
    ssh: createSshConnector({ logger, timeouts: { connectMs: 5_000, handshakeMs: 10_000 } }),
    sshKeyring,
    logger,
    now,
    deployDir: defaultDeployDir(),
    agentRelease: async () => release,
    enrollment: {
      caPin: channel.pki.caPin,
      gatewayAddress: options.gatewayAddress ?? `${options.agentHost ?? "127.0.0.1"}:${channel.port}`,
    },
    install: {
      prefix: prefixOf,
      unitName: (id) => (options.installPrefix ? "ocore-agent" : `ocore-agent-${id.slice(0, 8)}`),
      mode: options.installMode ?? "auto",
    },
    requirements: options.requirements ?? productRequirements,
    agentWaitMs: options.agentWaitMs ?? 60_000,
    uninstaller: createAgentUninstaller(channel.commands, now),
  };
  let worker: ProvisioningWorker | undefined;
  const startWorker = () => {
    worker = startProvisioningWorker(deps, { pollMs: 250, leaseMs: 6_000, ...options.timing });
  };
  startWorker();

  await ensureBuiltinRoles(database.db);
  const firstAdmin = await ensureFirstAdmin(database.db);
  if (!firstAdmin) throw new Error("a fresh database must get a first admin");
  const joinDeps = createJoinDeps({
    config,
    db: database.db,
    pki: channel.pki,
    now,
    deployDir: defaultDeployDir(),
    gatewayAddress: deps.enrollment.gatewayAddress,
    installPrefix: prefixOf,
    requirements: deps.requirements,
  });
  const instanceDeps = createBackupDeps({
    db: database.db,
    runner: channel.commands,
    store: channel.backupStore,
    tasks: createBackgroundTasks(logger),
    logger,
    images: config.instances.images,
    now,
  });
  const api = createApi({
    joins: joinDeps,
    instances: instanceDeps,
    db: database.db,
    logger,
    now,
    accessTokenKey: randomBytes(32),
    secureCookies: false,
    getSystemInfo: async () => {
      throw new Error("not used in these tests");
    },
    metricsRetention: config.metricsRetention,
    enrollment: { caPin: channel.pki.caPin, gatewayAddress: `127.0.0.1:${channel.port}` },
    commands: channel.commands,
    serverLifecycle: { db: database.db, sshKeyring, now, onJobQueued: () => worker?.wake() },
  });
  const transport = (bearer?: string) =>
    createRouterTransport(createApiRoutes(api.services), {
      router: { interceptors: api.interceptors },
      transport: {
        interceptors: [
          (next) => (request) => {
            if (bearer) request.header.set("authorization", `Bearer ${bearer}`);
            return next(request);
          },
        ],
      },
    });
  const auth = createClient(AuthService, transport());
  const first = await auth.login({ username: firstAdmin.username, password: firstAdmin.password });
  const changed = await createClient(AuthService, transport(first.tokens?.accessToken)).changePassword({
    currentPassword: firstAdmin.password,
    newPassword: STRONG_PASSWORD,
  });
  const servers = createClient(ServerService, transport(changed.tokens?.accessToken));
  const joins = createClient(JoinService, transport(changed.tokens?.accessToken));
  const instances = createClient(InstanceService, transport(changed.tokens?.accessToken));
  let http: HttpServer | undefined;
  let httpPort = 0;
  if (options.http) {
    http = createHttpServer({
      logger,
      routes: createApiRoutes(api.services),
      interceptors: api.interceptors,
      readMaxBytes: config.apiMaxRequestBytes,
      requestGate: api.requestGate,
      contextValues: api.contextValues,
      readiness: async () => {},
      join: createJoinHandler(joinDeps, logger),
    });
    httpPort = (await http.listen(options.agentHost ? "0.0.0.0" : "127.0.0.1", 0)).port;
  }

  return {
    database,
    channel,
    servers,
    joins,
    instances,
    httpPort,
    prefixOf,
    startWorker,
    async stopWorker() {
      await worker?.stop();
      worker = undefined;
    },
    async close() {
      try {
        await worker?.stop();
        await instanceDeps.tasks.idle();
        await http?.close();
        await channel.close();
        await database.close();
      } finally {
        // Safety net: stop any agent a failed test left running under our prefixes.
        if (existsSync(installRoot)) {
          for (const prefix of readdirSync(installRoot)) {
            try {
              execFileSync(
                path.join(defaultDeployDir(), "host", "uninstall-agent.sh"),
                ["--prefix", path.join(installRoot, prefix)],
                { stdio: "ignore", timeout: 60_000 },
              );
            } catch {
              // already gone
            }
          }
        }
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
