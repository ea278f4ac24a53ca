import { StringValueSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { AgentReleaseService } from "@ocore/proto/gen/ocore/api/v1/agent_release_service_pb.js";
import { AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { ApiTokenService } from "@ocore/proto/gen/ocore/api/v1/api_token_service_pb.js";
import { AuditService } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { BackupService } from "@ocore/proto/gen/ocore/api/v1/backup_service_pb.js";
import { CommandService } from "@ocore/proto/gen/ocore/api/v1/command_service_pb.js";
import { DiagnosisService } from "@ocore/proto/gen/ocore/api/v1/diagnosis_service_pb.js";
import { DockerService } from "@ocore/proto/gen/ocore/api/v1/docker_service_pb.js";
import { EnrollmentTokenService } from "@ocore/proto/gen/ocore/api/v1/enrollment_token_service_pb.js";
import { InstanceService } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import { JoinService } from "@ocore/proto/gen/ocore/api/v1/join_service_pb.js";
import { RunService } from "@ocore/proto/gen/ocore/api/v1/run_service_pb.js";
import { DataFormat, ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { SshKeyService } from "@ocore/proto/gen/ocore/api/v1/ssh_key_service_pb.js";
import { SshSessionService } from "@ocore/proto/gen/ocore/api/v1/ssh_session_service_pb.js";
import { TemplateService } from "@ocore/proto/gen/ocore/api/v1/template_service_pb.js";
import { UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiServices, isMutating, procedureOf } from "../../../test/support/api-descriptors.js";
import { type ApiHarness, createApiHarness, STRONG_PASSWORD } from "../../../test/support/api-harness.js";
import { generateUserKey } from "../../../test/support/sshd-host.js";
import { type SessionRecorder, startSessionRecording } from "../../domain/ssh-sessions/session-recorder.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { alerts as alertRows } from "../../platform/db/schema/alerts.js";
import { provisioningJobs } from "../../platform/db/schema/provisioning.js";
import { servers } from "../../platform/db/schema/servers.js";
import { users } from "../../platform/db/schema/users.js";

/**
 * One valid call per state-changing RPC. `prepare` runs before the audit log is counted, `run`
 * is the call under test. The test below fails for any mutating RPC of the contract missing here.
 */
type Example = {
  prepare: (h: ApiHarness) => Promise<unknown>;
  run: (h: ApiHarness, prepared: unknown) => Promise<unknown>;
};

const login = (h: ApiHarness) =>
  h.client(AuthService).login({ username: "admin", password: STRONG_PASSWORD });
const owner = async (h: ApiHarness) => h.ownerToken();
const newUser = async (h: ApiHarness, name: string) =>
  (
    await h
      .client(UserService, await h.ownerToken())
      .createUser({ username: name, roleBindings: [{ role: "viewer", selector: "" }] })
  ).user?.id ?? "";
const newServer = async (h: ApiHarness, name: string) =>
  (await h.database.db.insert(servers).values({ name }).returning())[0]?.id ?? "";

const examples: Record<string, Example> = {
  "ocore.api.v1.DiagnosisService/Diagnose": {
    prepare: async (h) => [await owner(h), await newServer(h, "diagnosed")] as const,
    run: (h, p) => {
      const [token, serverId] = p as readonly [string, string];
      return h
        .client(DiagnosisService, token)
        .diagnose({ question: "why is it slow?", serverIds: [serverId] });
    },
  },
  "ocore.api.v1.SshSessionService/EndSession": {
    prepare: async (h) => {
      const token = await h.ownerToken();
      const [admin] = await h.database.db.select().from(users).where(eq(users.username, "admin"));
      const recorder = await startSessionRecording(h.database.db, {
        userId: admin?.id ?? "",
        serverId: await newServer(h, "ssh-target"),
        login: "root",
        kind: "shell",
        cols: 80,
        rows: 24,
        clientAddress: "192.0.2.1:2222",
      });
      h.liveSessions.register({
        sessionId: recorder.sessionId,
        userId: admin?.id ?? "",
        serverId: "",
        login: "root",
        startedAt: new Date(),
        terminate: () => {},
      });
      return [token, recorder] as const;
    },
    run: async (h, p) => {
      const [token, recorder] = p as [string, SessionRecorder];
      await h.client(SshSessionService, token).endSession({ id: recorder.sessionId });
      await recorder.end({ exitStatus: null, reason: "terminated" });
    },
  },
  "ocore.api.v1.AuthService/Login": { prepare: owner, run: login },
  "ocore.api.v1.AuthService/Refresh": {
    prepare: login,
    run: (h, p) =>
      h
        .client(AuthService)
        .refresh({ refreshToken: (p as Awaited<ReturnType<typeof login>>).tokens?.refreshToken }),
  },
  "ocore.api.v1.AuthService/Logout": {
    prepare: login,
    run: (h, p) =>
      h.client(AuthService, (p as Awaited<ReturnType<typeof login>>).tokens?.accessToken).logout({}),
  },
  "ocore.api.v1.AuthService/ChangePassword": {
    prepare: async (h) => {
      const id = await newUser(h, "changer");
      const reset = await h.client(UserService, await h.ownerToken()).resetUserPassword({ id });
      const session = await h
        .client(AuthService)
        .login({ username: "changer", password: reset.oneTimePassword });
      return { token: session.tokens?.accessToken, password: reset.oneTimePassword };
    },
    run: (h, p) => {
      const { token, password } = p as { token: string; password: string };
      return h
        .client(AuthService, token)
        .changePassword({ currentPassword: password, newPassword: STRONG_PASSWORD });
    },
  },
  "ocore.api.v1.UserService/CreateUser": {
    prepare: owner,
    run: (h, t) =>
      h
        .client(UserService, t as string)
        .createUser({ username: "created", roleBindings: [{ role: "viewer", selector: "" }] }),
  },
  "ocore.api.v1.UserService/UpdateUser": {
    prepare: async (h) => [await h.ownerToken(), await newUser(h, "updated")],
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(UserService, token).updateUser({ id, disabled: true });
    },
  },
  "ocore.api.v1.UserService/ResetUserPassword": {
    prepare: async (h) => [await h.ownerToken(), await newUser(h, "reset")],
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(UserService, token).resetUserPassword({ id });
    },
  },
  "ocore.api.v1.UserService/DeleteUser": {
    prepare: async (h) => [await h.ownerToken(), await newUser(h, "deleted")],
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(UserService, token).deleteUser({ id });
    },
  },
  "ocore.api.v1.UserService/CreateRole": {
    prepare: owner,
    run: (h, t) =>
      h.client(UserService, t as string).createRole({ name: "reviewer", permissions: ["audit.read"] }),
  },
  "ocore.api.v1.UserService/DeleteRole": {
    prepare: async (h) => {
      const token = await h.ownerToken();
      await h.client(UserService, token).createRole({ name: "temp", permissions: ["servers.read"] });
      return token;
    },
    run: (h, t) => h.client(UserService, t as string).deleteRole({ name: "temp" }),
  },
  "ocore.api.v1.SshKeyService/AddSshKey": {
    prepare: owner,
    run: (h, t) =>
      h
        .client(SshKeyService, t as string)
        .addSshKey({ publicKey: generateUserKey().publicKey, name: "laptop" }),
  },
  "ocore.api.v1.SshKeyService/DeleteSshKey": {
    prepare: async (h) => {
      const token = await h.ownerToken();
      const added = await h
        .client(SshKeyService, token)
        .addSshKey({ publicKey: generateUserKey().publicKey, name: "old laptop" });
      return [token, added.key?.id];
    },
    run: (h, p) => {
      const [token, id] = p as [string, string];
      return h.client(SshKeyService, token).deleteSshKey({ id });
    },
  },
  "ocore.api.v1.EnrollmentTokenService/CreateEnrollmentToken": {
    prepare: async (h) => [await h.ownerToken(), await newServer(h, "enrolling")],
    run: (h, p) => {
      const [token, serverId] = p as [string, string];
      return h.client(EnrollmentTokenService, token).createEnrollmentToken({ serverId });
    },
  },
  "ocore.api.v1.JoinService/CreateJoinCommand": {
    prepare: owner,
    run: (h, t) =>
      h.client(JoinService, t as string).createJoinCommand({ name: "joining", tags: { env: "test" } }),
  },
  "ocore.api.v1.JoinService/RevokeJoinCommand": {
    prepare: async (h) => {
      const token = await h.ownerToken();
      const created = await h.client(JoinService, token).createJoinCommand({ name: "revoked-join" });
      return [token, created.joinCommand?.id ?? ""];
    },
    run: (h, p) => {
      const [token, id] = p as [string, string];
      return h.client(JoinService, token).revokeJoinCommand({ id });
    },
  },
  "ocore.api.v1.ApiTokenService/CreateApiToken": {
    prepare: owner,
    run: (h, t) =>
      h.client(ApiTokenService, t as string).createApiToken({ name: "x", role: "viewer", ttlDays: 1 }),
  },
  "ocore.api.v1.ApiTokenService/RevokeApiToken": {
    prepare: async (h) => {
      const token = await h.ownerToken();
      const created = await h
        .client(ApiTokenService, token)
        .createApiToken({ name: "y", role: "viewer", ttlDays: 1 });
      return [token, created.token?.id];
    },
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(ApiTokenService, token).revokeApiToken({ id });
    },
  },
  "ocore.api.v1.CommandService/CancelCommand": {
    prepare: async (h) => {
      const { commandId } = await h.commands.submit({
        serverId: await newServer(h, "with-command"),
        input: StringValueSchema,
        args: { value: "queued" },
        deadline: new Date(h.clock.now().getTime() + 60_000),
        actor: { kind: "system", id: null },
      });
      return [await h.ownerToken(), commandId];
    },
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(CommandService, token).cancelCommand({ id, reason: "not needed" });
    },
  },
  "ocore.api.v1.ServerService/UpdateServer": {
    prepare: async (h) => [await h.ownerToken(), await newServer(h, "to-update")],
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(ServerService, token).updateServer({ id, replaceTags: true, tags: { env: "prod" } });
    },
  },
  "ocore.api.v1.ServerService/UpdateMatchingServers": {
    prepare: async (h) => [await h.ownerToken(), await newServer(h, "bulk-tagged")],
    run: (h, p) => {
      const [token] = p as string[];
      // One matching server: one batch, one entry.
      return h.client(ServerService, token).updateMatchingServers({
        filter: { query: "bulk-tagged" },
        setTags: { env: "prod" },
        expectedCount: 1,
      });
    },
  },
  "ocore.api.v1.ServerService/ImportServers": {
    prepare: owner,
    run: (h, t) =>
      h.client(ServerService, t as string).importServers({
        format: DataFormat.JSON,
        data: new TextEncoder().encode(JSON.stringify([{ name: "imported", host: "10.0.0.9" }])),
      }),
  },
  "ocore.api.v1.ServerService/CreateServer": {
    prepare: owner,
    run: (h, t) =>
      h
        .client(ServerService, t as string)
        .createServer({ name: "created", host: "10.0.0.10", password: "pw" }),
  },
  "ocore.api.v1.ServerService/RetryProvisioning": {
    prepare: async (h) => {
      const token = await h.ownerToken();
      const id = (
        await h.database.db.insert(servers).values({ name: "to-retry", status: "failed" }).returning()
      )[0]?.id;
      return [token, id];
    },
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(ServerService, token).retryProvisioning({ id, password: "new password" });
    },
  },
  "ocore.api.v1.ServerService/DeleteServer": {
    prepare: async (h) => [await h.ownerToken(), await newServer(h, "to-delete")],
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(ServerService, token).deleteServer({ id });
    },
  },
  "ocore.api.v1.ServerService/ForgetCredentials": {
    prepare: async (h) => {
      const token = await h.ownerToken();
      const created = await h
        .client(ServerService, token)
        .createServer({ name: "to-forget", host: "10.0.0.11", password: "pw" });
      // Provisioning done: the credentials are no longer in use.
      await h.database.db.update(provisioningJobs).set({ state: "succeeded" });
      return [token, created.server?.id];
    },
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(ServerService, token).forgetCredentials({ id });
    },
  },
  "ocore.api.v1.ServerService/AcceptHostKey": {
    prepare: async (h) => {
      const pending = `SHA256:${"B".repeat(43)}`;
      const [row] = await h.database.db
        .insert(servers)
        .values({
          name: "rekeyed",
          status: "failed",
          statusReason: "host_key_mismatch",
          pendingHostKeyFingerprint: pending,
        })
        .returning();
      return [await h.ownerToken(), row?.id, pending];
    },
    run: (h, p) => {
      const [token, id, fingerprint] = p as string[];
      return h.client(ServerService, token).acceptHostKey({ id, fingerprint });
    },
  },
  // No agent runs here: the refusal (agent not connected) is the one entry. The success path
  // (one command.submit entry) runs in test/e2e/agent-install-e2e.test.ts.
  "ocore.api.v1.AgentReleaseService/UpgradeAgent": {
    prepare: async (h) => [await h.ownerToken(), await newServer(h, "to-upgrade")],
    run: async (h, p) => {
      const [token, serverId] = p as string[];
      const refused = await h
        .client(AgentReleaseService, token)
        .upgradeAgent({ serverId })
        .catch((error: unknown) => error);
      expect(ConnectError.from(refused).code).toBe(Code.FailedPrecondition);
    },
  },
  ...dockerExamples(),
  ...instanceExamples(),
  ...alertExamples(),
  ...templateExamples(),
};

/**
 * DockerService changes: no agent runs here, so each names a server that does not exist and the
 * refusal is the one entry. The success path (one command.submit entry) is in
 * src/docker/docker-service.test.ts, with a scripted agent.
 */
function dockerExamples(): Record<string, Example> {
  const serverId = "00000000-0000-4000-8000-0000000000d0";
  const refused = (call: (client: Client<typeof DockerService>) => Promise<unknown>): Example => ({
    prepare: owner,
    run: async (h, token) => {
      const error = await call(h.client(DockerService, token as string)).catch((caught: unknown) => caught);
      expect(ConnectError.from(error).code).toBe(Code.NotFound);
    },
  });
  const drain = async (stream: AsyncIterable<unknown>) => {
    for await (const _ of stream);
  };
  const service = "ocore.api.v1.DockerService";
  return {
    [`${service}/CreateContainer`]: refused((c) =>
      c.createContainer({ serverId, spec: { name: "web", image: "odoo:17" } }),
    ),
    [`${service}/StartContainer`]: refused((c) => c.startContainer({ serverId, container: "web" })),
    [`${service}/StopContainer`]: refused((c) => c.stopContainer({ serverId, container: "web" })),
    [`${service}/RestartContainer`]: refused((c) => c.restartContainer({ serverId, container: "web" })),
    [`${service}/RemoveContainer`]: refused((c) => c.removeContainer({ serverId, container: "web" })),
    [`${service}/ExecInContainer`]: refused((c) =>
      c.execInContainer({ serverId, spec: { container: "web", command: ["true"] } }),
    ),
    [`${service}/PullImage`]: refused((c) => drain(c.pullImage({ serverId, spec: { image: "odoo:17" } }))),
    [`${service}/PruneDocker`]: refused((c) => c.pruneDocker({ serverId, spec: { containers: true } })),
  };
}

/**
 * InstanceService and BackupService changes: the harness runs no instance manager (no backup
 * store, no agent), so each call is refused as unavailable and that refusal is the one entry.
 * The success paths (one entry per change, in its transaction) are in
 * src/instances/instances.test.ts, with a simulated host.
 */
function instanceExamples(): Record<string, Example> {
  const id = "00000000-0000-4000-8000-0000000000e0";
  const refused = (call: (h: ApiHarness, token: string) => Promise<unknown>): Example => ({
    prepare: owner,
    run: async (h, token) => {
      const error = await call(h, token as string).catch((caught: unknown) => caught);
      expect(ConnectError.from(error).code).toBe(Code.Unavailable);
    },
  });
  const instance = "ocore.api.v1.InstanceService";
  const backup = "ocore.api.v1.BackupService";
  return {
    [`${instance}/CreateInstance`]: refused((h, t) =>
      h.client(InstanceService, t).createInstance({ serverId: id, name: "acme" }),
    ),
    [`${instance}/StartInstance`]: refused((h, t) => h.client(InstanceService, t).startInstance({ id })),
    [`${instance}/StopInstance`]: refused((h, t) => h.client(InstanceService, t).stopInstance({ id })),
    [`${instance}/RestartInstance`]: refused((h, t) => h.client(InstanceService, t).restartInstance({ id })),
    [`${instance}/DeleteInstance`]: refused((h, t) => h.client(InstanceService, t).deleteInstance({ id })),
    [`${backup}/CreateBackup`]: refused((h, t) =>
      h.client(BackupService, t).createBackup({ instanceId: id }),
    ),
    [`${backup}/RestoreBackup`]: refused((h, t) => h.client(BackupService, t).restoreBackup({ id })),
    [`${backup}/SetRetention`]: refused((h, t) =>
      h.client(BackupService, t).setRetention({ instanceId: id, retention: { daily: 1 } }),
    ),
    [`${backup}/DeleteBackup`]: refused((h, t) => h.client(BackupService, t).deleteBackup({ id })),
    [`${backup}/SetBackupSchedule`]: refused((h, t) =>
      h.client(BackupService, t).setBackupSchedule({ instanceId: id, schedule: { enabled: false } }),
    ),
  };
}

/** AlertService changes: each is one entry, recorded by its handler in the change's transaction. */
function alertExamples(): Record<string, Example> {
  const service = "ocore.api.v1.AlertService";
  const alerts = (h: ApiHarness, token: string) => h.client(AlertService, token);
  let n = 0;
  const createRule = (h: ApiHarness, token: string) =>
    alerts(h, token).createRule({
      name: `cpu high ${++n}`,
      metric: "cpu_percent",
      comparison: ">",
      threshold: 90,
      forSeconds: 60,
      severity: "warning",
    });
  // Port 9 (discard) on loopback refuses connections: the test send fails, which is recorded too.
  const createChannel = (h: ApiHarness, token: string) =>
    alerts(h, token).createChannel({
      name: `hook ${++n}`,
      settings: { case: "webhook", value: { url: "http://127.0.0.1:9/hook", secret: "0123456789abcdef" } },
    });
  const rule = async (h: ApiHarness) => {
    const token = await h.ownerToken();
    return [token, (await createRule(h, token)).rule?.id ?? ""];
  };
  const channel = async (h: ApiHarness) => {
    const token = await h.ownerToken();
    return [token, (await createChannel(h, token)).channel?.id ?? ""];
  };
  const pair = (p: unknown) => p as [string, string];
  const inAnHour = (h: ApiHarness) => timestampFromDate(new Date(h.clock.now().getTime() + 3_600_000));
  const createSilence = (h: ApiHarness, token: string) =>
    alerts(h, token).createSilence({
      ruleKey: "builtin:disk_used",
      endsAt: inAnHour(h),
      comment: "resizing",
    });
  const silence = async (h: ApiHarness) => {
    const token = await h.ownerToken();
    return [token, (await createSilence(h, token)).silence?.id ?? ""];
  };
  /** A firing alert on a new server, written as the evaluator writes it. */
  const firing = async (h: ApiHarness) => {
    const serverId = await newServer(h, `alerting-${++n}`);
    const now = h.clock.now();
    const [row] = await h.database.db
      .insert(alertRows)
      .values({
        fingerprint: `audit-${serverId}`,
        ruleKey: "builtin:disk_used",
        ruleName: "Disk used",
        serverId,
        labels: { mount: "/" },
        state: "firing",
        severity: "critical",
        value: 95,
        threshold: 90,
        summary: "disk / is 95% full",
        action: "free space",
        episode: 1,
        pendingSince: now,
        firingSince: now,
        notifiedAt: now,
        updatedAt: now,
      })
      .returning();
    return [await h.ownerToken(), row?.id ?? ""];
  };
  return {
    [`${service}/CreateSilence`]: { prepare: owner, run: (h, t) => createSilence(h, t as string) },
    [`${service}/EndSilence`]: {
      prepare: async (h) => {
        const prepared = await silence(h);
        h.clock.advance(1_000);
        return prepared;
      },
      run: (h, p) => alerts(h, pair(p)[0]).endSilence({ id: pair(p)[1] }),
    },
    [`${service}/AcknowledgeAlert`]: {
      prepare: firing,
      run: (h, p) => alerts(h, pair(p)[0]).acknowledgeAlert({ id: pair(p)[1], comment: "on it" }),
    },
    [`${service}/CreateRule`]: { prepare: owner, run: (h, t) => createRule(h, t as string) },
    [`${service}/DeleteRule`]: {
      prepare: rule,
      run: (h, p) => alerts(h, pair(p)[0]).deleteRule({ id: pair(p)[1] }),
    },
    [`${service}/CreateChannel`]: { prepare: owner, run: (h, t) => createChannel(h, t as string) },
    [`${service}/DeleteChannel`]: {
      prepare: channel,
      run: (h, p) => alerts(h, pair(p)[0]).deleteChannel({ id: pair(p)[1] }),
    },
    [`${service}/TestChannel`]: {
      prepare: channel,
      run: async (h, p) => {
        const result = await alerts(h, pair(p)[0]).testChannel({ id: pair(p)[1] });
        expect(result.delivered).toBe(false);
      },
    },
  };
}

/** TemplateService and RunService changes: one entry each, written with the change. */
function templateExamples(): Record<string, Example> {
  let n = 0;
  const definition = () => ({
    name: "uptime",
    type: "diagnostic",
    interpreter: "bash",
    script: "uptime",
    runAs: "nobody",
    timeoutSeconds: 10,
  });
  /** A template written by a second user (so the owner may review it): [owner token, template]. */
  const written = async (h: ApiHarness) => {
    const writer = await h.userToken(`writer-${++n}`, [{ role: "admin", selector: "" }]);
    const created = await h
      .client(TemplateService, writer)
      .createTemplate({ key: `t-${n}`, definition: definition() });
    return [await h.ownerToken(), created.template] as const;
  };
  const approved = async (h: ApiHarness) => {
    const [token, template] = await written(h);
    await h
      .client(TemplateService, token)
      .approveVersion({ versionId: template?.latest?.id, hash: template?.latest?.hash });
    return [token, template?.id ?? ""] as const;
  };
  /** A finished run whose one host was unreachable (offline): [owner token, run id]. */
  const failedRun = async (h: ApiHarness) => {
    const [token, templateId] = await approved(h);
    const server = await h.database.db
      .insert(servers)
      .values({ name: `offline-${n}`, status: "offline" })
      .returning();
    const run = await h
      .client(RunService, token)
      .startRun({ templateId, targets: { serverIds: [server[0]?.id ?? ""] } });
    await h.dispatcher.idle();
    return [token, run.run?.id ?? ""] as const;
  };
  const pair = (p: unknown) => p as [string, string];
  const withTemplate = (p: unknown) =>
    p as readonly [string, { id: string; latest?: { id: string; hash: string } }];
  const service = "ocore.api.v1.TemplateService";
  return {
    [`${service}/CreateTemplate`]: {
      prepare: owner,
      run: (h, t) =>
        h
          .client(TemplateService, t as string)
          .createTemplate({ key: `new-${++n}`, definition: definition() }),
    },
    [`${service}/UpdateTemplate`]: {
      prepare: written,
      run: (h, p) =>
        h.client(TemplateService, withTemplate(p)[0]).updateTemplate({
          id: withTemplate(p)[1].id,
          definition: { ...definition(), script: "uptime -p" },
        }),
    },
    [`${service}/ApproveVersion`]: {
      prepare: written,
      run: (h, p) =>
        h.client(TemplateService, withTemplate(p)[0]).approveVersion({
          versionId: withTemplate(p)[1].latest?.id,
          hash: withTemplate(p)[1].latest?.hash,
        }),
    },
    [`${service}/RejectVersion`]: {
      prepare: written,
      run: (h, p) =>
        h.client(TemplateService, withTemplate(p)[0]).rejectVersion({
          versionId: withTemplate(p)[1].latest?.id,
          hash: withTemplate(p)[1].latest?.hash,
          note: "not on Fridays",
        }),
    },
    "ocore.api.v1.RunService/StartRun": {
      prepare: async (h) => {
        const [token, templateId] = await approved(h);
        const server = await h.database.db
          .insert(servers)
          .values({ name: `active-${n}`, status: "active" })
          .returning();
        return [token, templateId, server[0]?.id ?? ""];
      },
      run: async (h, p) => {
        const [token, templateId, serverId] = p as [string, string, string];
        await h.client(RunService, token).startRun({ templateId, targets: { serverIds: [serverId] } });
        await h.dispatcher.idle();
      },
    },
    "ocore.api.v1.RunService/CancelRun": {
      prepare: async (h) => {
        const [token, templateId] = await approved(h);
        const server = await h.database.db
          .insert(servers)
          .values({ name: `busy-${n}`, status: "active" })
          .returning();
        const run = await h
          .client(RunService, token)
          .startRun({ templateId, targets: { serverIds: [server[0]?.id ?? ""] } });
        await h.dispatcher.idle();
        return [token, run.run?.id ?? ""];
      },
      run: async (h, p) => {
        await h.client(RunService, pair(p)[0]).cancelRun({ id: pair(p)[1], reason: "test" });
        await h.dispatcher.idle();
      },
    },
    "ocore.api.v1.RunService/StartAdhocRun": {
      prepare: async (h) => {
        const server = await h.database.db
          .insert(servers)
          .values({ name: `adhoc-${++n}`, status: "active" })
          .returning();
        return [await h.ownerToken(), server[0]?.id ?? ""];
      },
      run: async (h, p) => {
        await h
          .client(RunService, pair(p)[0])
          .startAdhocRun({ script: "uptime", targets: { serverIds: [pair(p)[1]] } });
        await h.dispatcher.idle();
      },
    },
    "ocore.api.v1.RunService/ResumeRun": {
      // A run paused after its canary: no agent is live here, so the canary host's success is
      // written as the dispatcher would record it, then the dispatcher pauses the run.
      prepare: async (h) => {
        const [token, templateId] = await approved(h);
        const rows = await h.database.db
          .insert(servers)
          .values([
            { name: `canary-${n}`, status: "active" },
            { name: `after-${n}`, status: "active" },
          ])
          .returning();
        const run = await h.client(RunService, token).startRun({
          templateId,
          targets: { serverIds: rows.map((r) => r.id) },
          canary: "1",
          canaryPause: true,
        });
        const runId = run.run?.id ?? "";
        await h.dispatcher.idle();
        await h.database.db.execute(
          sql`update command_run_hosts set state = 'succeeded' where run_id = ${runId} and wave = 0`,
        );
        h.dispatcher.kick(runId);
        await h.dispatcher.idle();
        expect((await h.client(RunService, token).getRun({ id: runId })).run?.state).toBe("paused");
        return [token, runId];
      },
      run: async (h, p) => {
        await h.client(RunService, pair(p)[0]).resumeRun({ id: pair(p)[1], note: "canary looks fine" });
        await h.dispatcher.idle();
      },
    },
    "ocore.api.v1.RunService/RerunFailed": {
      prepare: failedRun,
      run: async (h, p) => {
        await h.client(RunService, pair(p)[0]).rerunFailed({ id: pair(p)[1] });
        await h.dispatcher.idle();
      },
    },
  };
}

async function auditCount(h: ApiHarness): Promise<number> {
  const result = await h.database.db.execute(sql`select count(*)::int as n from audit_log`);
  return rowsOf<{ n: number }>(result)[0]?.n ?? -1;
}

/**
 * Entries written for callers. Left out: `run.end`, the dispatcher's own (system) record of how a
 * run ended, which a cancel or a re-run of unreachable hosts brings about right after the call.
 */
async function callerEntryCount(h: ApiHarness): Promise<number> {
  const result = await h.database.db.execute(
    sql`select count(*)::int as n from audit_log where action <> 'run.end'`,
  );
  return rowsOf<{ n: number }>(result)[0]?.n ?? -1;
}

describe("every state-changing RPC leaves exactly one audit entry", async () => {
  const mutating = (await apiServices())
    .flatMap((s) => s.methods)
    .filter(isMutating)
    .map(procedureOf);
  let harness: ApiHarness;
  beforeAll(async () => {
    harness = await createApiHarness("pglite");
  });
  afterAll(() => harness.close());

  it("has an example for every one of them", () => {
    expect(mutating.filter((procedure) => !examples[procedure])).toEqual([]);
  });

  it.each(mutating.filter((procedure) => examples[procedure]))("%s", async (procedure) => {
    const example = examples[procedure] as Example;
    const prepared = await example.prepare(harness);
    const before = await callerEntryCount(harness);
    await example.run(harness, prepared);
    expect(await callerEntryCount(harness)).toBe(before + 1);
  });

  it("records a refused call as one denied entry", async () => {
    const viewer = await harness.userToken("denied-viewer", [{ role: "viewer", selector: "" }]);
    const before = await auditCount(harness);
    await expect(
      harness
        .client(UserService, viewer)
        .createUser({ username: "nope", roleBindings: [{ role: "viewer", selector: "" }] }),
    ).rejects.toThrow(/users.manage/);
    expect(await auditCount(harness)).toBe(before + 1);
    const last = await harness.database.db.execute(
      sql`select action, result, actor_name from audit_log order by id desc limit 1`,
    );
    expect(rowsOf(last)[0]).toEqual({ action: "user.create", result: "denied", actor_name: "denied-viewer" });
  });

  it("records a refused read once, and a flood of the same refusal as one counted entry", async () => {
    const viewer = await harness.userToken("nosy-viewer", [{ role: "viewer", selector: "" }]);
    const before = await auditCount(harness);
    const audit = harness.client(AuditService, viewer);
    for (let i = 0; i < 25; i++) {
      await expect(audit.listAuditEntries({})).rejects.toThrow(/audit.read/);
      await expect(audit.verifyAuditChain({})).rejects.toThrow(/audit.read/);
    }
    expect(await auditCount(harness)).toBe(before + 2);
    const denied = await harness.database.db.execute(
      sql`select action, result, actor_name, detail from audit_log where id > ${before} order by id`,
    );
    expect(rowsOf(denied)).toEqual([
      {
        action: "access.denied",
        result: "denied",
        actor_name: "nosy-viewer",
        detail: "ocore.api.v1.AuditService/ListAuditEntries: this needs the audit.read permission",
      },
      {
        action: "access.denied",
        result: "denied",
        actor_name: "nosy-viewer",
        detail: "ocore.api.v1.AuditService/VerifyAuditChain: this needs the audit.read permission",
      },
    ]);
    // The window ends: the next refusal writes the 24 + 24 repeats as two counted entries.
    harness.clock.advance(61_000);
    await expect(audit.listAuditEntries({})).rejects.toThrow(/audit.read/);
    const counted = await harness.database.db.execute(
      sql`select after_json from audit_log where id > ${before + 2} order by id`,
    );
    expect(rowsOf<{ after_json: string }>(counted).map((row) => JSON.parse(row.after_json).repeated)).toEqual(
      [24, 24],
    );
  });

  it("records the server a refused DeleteServer named in its id", async () => {
    const viewer = await harness.userToken("deleting-viewer", [{ role: "viewer", selector: "" }]);
    const id = await newServer(harness, "not-yours");
    await expect(harness.client(ServerService, viewer).deleteServer({ id })).rejects.toThrow(/servers.write/);
    const last = await harness.database.db.execute(
      sql`select action, result, target_type, target_id from audit_log order by id desc limit 1`,
    );
    expect(rowsOf(last)[0]).toEqual({
      action: "server.delete",
      result: "denied",
      target_type: "server",
      target_id: id,
    });
  });
});
