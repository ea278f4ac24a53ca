import { randomBytes } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, createRouterTransport, type Transport } from "@connectrpc/connect";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import pino from "pino";
import { createChannelKeyring } from "../../src/domain/alerts/channels/channel-secrets.js";
import type { BackupDeps } from "../../src/domain/backups/backup-deps.js";
import type { CommandService } from "../../src/domain/commands/command-service.js";
import { createCommandRunner } from "../../src/domain/commands/create-command-runner.js";
import type { JoinDeps } from "../../src/domain/joining/join-deps.js";
import { productRequirements } from "../../src/domain/provisioning/requirements.js";
import { defaultDeployDir } from "../../src/domain/provisioning/start-provisioning.js";
import { createRunDispatcher, type RunDispatcher } from "../../src/domain/runs/run-dispatcher.js";
import { createLiveSessions, type LiveSessions } from "../../src/domain/ssh-sessions/live-sessions.js";
import { ensureFirstAdmin } from "../../src/domain/users/ensure-first-admin.js";
import { ensureBuiltinRoles } from "../../src/domain/users/roles.js";
import type { DatabaseKind, Db } from "../../src/platform/db/database.js";
import { createMasterKeyring } from "../../src/platform/pki/master-key.js";
import { type Api, createApi } from "../../src/startup/create-api.js";
import { createApiRoutes } from "../../src/transports/api/routes.js";
import { createTestClock, type TestClock } from "./test-clock.js";
import { createTestDatabase, type TestDatabase } from "./test-databases.js";

export const STRONG_PASSWORD = "correct horse battery staple 42";

export interface ApiHarness {
  readonly database: TestDatabase;
  readonly api: Api;
  /** What JoinService and the join endpoints run with (a stand-in CA and agent release). */
  readonly joinDeps: JoinDeps;
  readonly clock: TestClock;
  /** The command runner behind CommandService (no agent is ever live here). */
  readonly commands: CommandService;
  /** The run dispatcher behind RunService (every agent counts as offline unless marked active). */
  readonly dispatcher: RunDispatcher;
  readonly firstAdminPassword: string;
  /** The SSH sessions "open in this process" that SshSessionService lists and ends. */
  readonly liveSessions: LiveSessions;
  /** An in-memory transport through the real routes and interceptors; `headers` are sent on every call. */
  transport(headers?: Record<string, string>): Transport;
  client<S extends DescService>(service: S, bearer?: string): Client<S>;
  /** Signs in as the first admin (owner) and replaces its one-time password; returns its access token. */
  ownerToken(): Promise<string>;
  /** Creates a user with these bindings, signs in and sets a password; returns its access token. */
  userToken(username: string, roleBindings: { role: string; selector: string }[]): Promise<string>;
  close(): Promise<void>;
}

/** The API on a fresh database of the given kind, served in memory (no sockets). */
export async function createApiHarness(
  kind: DatabaseKind,
  options: {
    readonly instances?: (db: Db) => BackupDeps;
    readonly diagnosis?: NonNullable<Parameters<typeof createApi>[0]["diagnosis"]>;
  } = {},
): Promise<ApiHarness> {
  const database = await createTestDatabase(kind);
  await ensureBuiltinRoles(database.db);
  const firstAdmin = await ensureFirstAdmin(database.db);
  if (!firstAdmin) throw new Error("a fresh database must get a first admin");
  const clock = createTestClock();
  const commands = createCommandRunner({
    db: database.db,
    links: { get: () => undefined },
    logger: pino({ level: "silent" }),
    now: clock.now,
    sweepEveryMs: 0,
  });
  const dispatcher = createRunDispatcher({
    db: database.db,
    commands,
    logger: pino({ level: "silent" }),
    now: clock.now,
    replicaId: "api-harness",
    isLive: () => false,
    tickEveryMs: 0,
  });
  const liveSessions = createLiveSessions();
  // Join commands: a stand-in CA and agent release (no host runs the script here).
  const joinDeps: JoinDeps = {
    db: database.db,
    now: clock.now,
    ca: {
      pin: "A".repeat(43),
      certificatePem: "-----BEGIN CERTIFICATE-----\nTk9UIEEgQ0VSVElGSUNBVEU=\n-----END CERTIFICATE-----\n",
    },
    gatewayAddress: "ocore.test:8443",
    deployDir: defaultDeployDir(),
    agentRelease: async () => ({
      path: "/dev/null",
      version: "0.0.0-test",
      sha256: "0".repeat(64),
      size: 0,
    }),
    publicUrl: "https://ocore.test",
    ttlMs: 3_600_000,
    install: { prefix: () => "/opt/ocore-agent", unitName: () => "ocore-agent" },
    requirements: productRequirements,
    agentWaitMs: 1_000,
  };
  const api = createApi({
    templates: { db: database.db, now: clock.now, commands, dispatcher },
    liveSessions,
    instances: options.instances?.(database.db),
    ...(options.diagnosis ? { diagnosis: options.diagnosis } : {}),
    commands,
    db: database.db,
    logger: pino({ level: process.env.HARNESS_LOG ?? "silent" }),
    now: clock.now,
    accessTokenKey: randomBytes(32),
    secureCookies: false,
    getSystemInfo: async () => {
      throw new Error("not used in these tests");
    },
    metricsRetention: { rawDays: 3, minuteDays: 30, hourDays: 395 },
    enrollment: { caPin: "A".repeat(43), gatewayAddress: "ocore.test:8443" },
    // No worker runs here: queued provisioning jobs just stay queued.
    serverLifecycle: {
      db: database.db,
      sshKeyring: createMasterKeyring(randomBytes(32).toString("base64")),
      now: clock.now,
      onJobQueued: () => {},
    },
    joins: joinDeps,
    // Alert rules and channels; no evaluator or outbox worker runs here.
    alerts: {
      db: database.db,
      keyring: createChannelKeyring([createMasterKeyring(randomBytes(32).toString("base64")).current]),
      now: clock.now,
      testTimeoutMs: 2_000,
      watchTickMs: 100,
    },
  });
  const routes = createApiRoutes(api.services);
  const transport = (headers: Record<string, string> = {}) =>
    createRouterTransport(routes, {
      router: { interceptors: api.interceptors },
      transport: {
        interceptors: [
          (next) => (request) => {
            for (const [name, value] of Object.entries(headers)) request.header.set(name, value);
            return next(request);
          },
        ],
      },
    });
  const client = <S extends DescService>(service: S, bearer?: string) =>
    createClient(service, transport(bearer ? { authorization: `Bearer ${bearer}` } : {}));

  async function signInWithNewPassword(username: string, oneTimePassword: string): Promise<string> {
    const auth = client(AuthService);
    const first = await auth.login({ username, password: oneTimePassword });
    const changed = await client(AuthService, first.tokens?.accessToken).changePassword({
      currentPassword: oneTimePassword,
      newPassword: STRONG_PASSWORD,
    });
    return changed.tokens?.accessToken ?? "";
  }

  let owner: Promise<string> | undefined;
  const harness: ApiHarness = {
    database,
    api,
    joinDeps,
    clock,
    commands,
    dispatcher,
    firstAdminPassword: firstAdmin.password,
    liveSessions,
    transport,
    client,
    ownerToken() {
      owner ??= signInWithNewPassword(firstAdmin.username, firstAdmin.password);
      return owner;
    },
    async userToken(username, roleBindings) {
      const created = await client(UserService, await harness.ownerToken()).createUser({
        username,
        roleBindings,
      });
      return signInWithNewPassword(username, created.oneTimePassword);
    },
    close: async () => {
      await api.close();
      await dispatcher.close();
      await commands.close();
      await database.close();
    },
  };
  return harness;
}
