import { serverIdOfAlert } from "../../domain/alerts/list-alerts.js";
import type { Permission } from "../../domain/auth/permissions.js";
import type { Tags } from "../../domain/auth/selector.js";
import { findBackup } from "../../domain/backups/backup-queries.js";
import { serverIdOfCommand } from "../../domain/commands/command-records.js";
import { findInstance } from "../../domain/instances/instance-queries.js";
import { findServer } from "../../domain/servers/servers.js";
import { serverIdOfSession } from "../../domain/ssh-sessions/get-session.js";
import type { Db } from "../../platform/db/database.js";

/**
 * Who may call what: ONE table for every RPC of the API. The auth interceptor refuses any RPC
 * that is not declared here (default deny), and a test checks that every method of every
 * service in the contract is declared.
 *
 * - `access`: "public" (no caller needed), "authenticated" (any signed-in caller), or a permission.
 * - `scope`: for a permission, "global" means it must be held without a tag selector; "server"
 *   means it may be held on some servers only: with `target` the interceptor checks the target
 *   server's tags, without it the handler limits what it returns (lists).
 * - `target`: finds the server the request concerns. The interceptor checks its tags (server
 *   scope) and records its id in the audit entries it writes (failures and denials).
 * - `action`: the audit action of a state-changing RPC. Its handler records success in the same
 *   transaction as the change; the interceptor records failures and denials under this action
 *   (denials of RPCs without one as `access.denied`: every denial is audited, see
 *   audit/denial-aggregator.ts). `auditedByHandler` RPCs (login) record every outcome themselves.
 */
export interface RpcPolicy {
  readonly access: "public" | "authenticated" | Permission;
  readonly scope?: "global" | "server";
  readonly target?: (message: unknown, db: Db) => Promise<RpcTarget | undefined>;
  readonly action?: string;
  readonly auditedByHandler?: boolean;
  /** Callable with a one-time password that still has to be changed. */
  readonly allowDuringPasswordChange?: boolean;
}

/** The server a request concerns: its id (for the audit log) and its tags, when it exists. */
export interface RpcTarget {
  readonly serverId: string;
  readonly tags: Tags | undefined;
}

/** The server a request names in its `id` field. */
const serverById = async (message: unknown, db: Db): Promise<RpcTarget | undefined> => {
  const id = (message as { id?: unknown }).id;
  if (typeof id !== "string" || id === "") return undefined;
  return { serverId: id, tags: (await findServer(db, id))?.tags };
};

/** The server a request names in its `serverId` field (agent channel RPCs). */
const serverByServerId = async (message: unknown, db: Db): Promise<RpcTarget | undefined> =>
  serverById({ id: (message as { serverId?: unknown }).serverId }, db);

/** The server of the command a request names in its `id` field. */
const serverOfCommand = async (message: unknown, db: Db): Promise<RpcTarget | undefined> => {
  const id = (message as { id?: unknown }).id;
  const serverId = typeof id === "string" ? await serverIdOfCommand(db, id) : undefined;
  return serverId ? serverById({ id: serverId }, db) : undefined;
};

/** The server of the alert a request names in its `id` field. */
const serverOfAlert = async (message: unknown, db: Db): Promise<RpcTarget | undefined> => {
  const id = (message as { id?: unknown }).id;
  const serverId = typeof id === "string" ? await serverIdOfAlert(db, id) : undefined;
  return serverId ? serverById({ id: serverId }, db) : undefined;
};

/** The server of the instance a request names in `id` (InstanceService) or `instanceId`. */
const serverOfInstance =
  (field: "id" | "instanceId") =>
  async (message: unknown, db: Db): Promise<RpcTarget | undefined> => {
    const id = (message as Record<string, unknown>)[field];
    const instance = typeof id === "string" ? await findInstance(db, id) : undefined;
    return instance ? serverById({ id: instance.serverId }, db) : undefined;
  };

/** The server a backup (named in `id`) was taken on. */
const serverOfBackup = async (message: unknown, db: Db): Promise<RpcTarget | undefined> => {
  const id = (message as { id?: unknown }).id;
  const backup = typeof id === "string" ? await findBackup(db, id) : undefined;
  return backup ? serverById({ id: backup.serverId }, db) : undefined;
};

/** The server of the SSH session a request names in its `id` field. */
const serverOfSession = async (message: unknown, db: Db): Promise<RpcTarget | undefined> => {
  const id = (message as { id?: unknown }).id;
  const serverId = typeof id === "string" ? await serverIdOfSession(db, id) : undefined;
  return serverId ? serverById({ id: serverId }, db) : undefined;
};

const global = (access: Permission, action?: string): RpcPolicy => ({ access, scope: "global", action });

export const rpcPolicies: Readonly<Record<string, RpcPolicy>> = {
  "ocore.api.v1.SystemService/GetInfo": { access: "public" },

  "ocore.api.v1.AuthService/Login": { access: "public", action: "auth.login", auditedByHandler: true },
  "ocore.api.v1.AuthService/Refresh": { access: "public", action: "auth.refresh", auditedByHandler: true },
  "ocore.api.v1.AuthService/Logout": {
    access: "authenticated",
    action: "auth.logout",
    allowDuringPasswordChange: true,
  },
  "ocore.api.v1.AuthService/ChangePassword": {
    access: "authenticated",
    action: "auth.change_password",
    allowDuringPasswordChange: true,
  },
  "ocore.api.v1.AuthService/GetCurrentUser": { access: "authenticated", allowDuringPasswordChange: true },

  "ocore.api.v1.SshKeyService/ListSshKeys": { access: "authenticated" },
  "ocore.api.v1.SshKeyService/AddSshKey": { access: "authenticated", action: "ssh_key.add" },
  "ocore.api.v1.SshKeyService/DeleteSshKey": { access: "authenticated", action: "ssh_key.delete" },

  "ocore.api.v1.UserService/ListUsers": global("users.read"),
  "ocore.api.v1.UserService/CreateUser": global("users.manage", "user.create"),
  "ocore.api.v1.UserService/UpdateUser": global("users.manage", "user.update"),
  "ocore.api.v1.UserService/ResetUserPassword": global("users.manage", "user.reset_password"),
  "ocore.api.v1.UserService/DeleteUser": global("users.manage", "user.delete"),
  "ocore.api.v1.UserService/ListRoles": global("users.read"),
  "ocore.api.v1.UserService/CreateRole": global("users.manage", "role.create"),
  "ocore.api.v1.UserService/DeleteRole": global("users.manage", "role.delete"),

  "ocore.api.v1.ApiTokenService/CreateApiToken": global("tokens.manage", "token.create"),
  "ocore.api.v1.ApiTokenService/ListApiTokens": global("tokens.manage"),
  "ocore.api.v1.ApiTokenService/RevokeApiToken": global("tokens.manage", "token.revoke"),

  "ocore.api.v1.AuditService/ListAuditEntries": global("audit.read"),
  "ocore.api.v1.AuditService/VerifyAuditChain": global("audit.read"),
  "ocore.api.v1.AuditService/ExportAuditLog": global("audit.read"),
  "ocore.api.v1.AuditService/FollowAuditLog": global("audit.read"),

  "ocore.api.v1.ServerService/ListServers": { access: "servers.read", scope: "server" },
  "ocore.api.v1.ServerService/GetServer": { access: "servers.read", scope: "server", target: serverById },
  "ocore.api.v1.ServerService/UpdateServer": {
    access: "servers.write",
    scope: "server",
    target: serverById,
    action: "server.update",
  },
  // A filter, not ids (issue 21): checked per server by its handler, which changes only servers
  // in the caller's servers.write scope and never moves one out of it.
  "ocore.api.v1.ServerService/UpdateMatchingServers": {
    access: "servers.write",
    scope: "server",
    action: "server.bulk_update",
  },
  "ocore.api.v1.ServerService/ImportServers": global("servers.import", "server.import"),
  "ocore.api.v1.ServerService/ExportServers": { access: "servers.read", scope: "server" },
  "ocore.api.v1.ServerService/ExportServersStream": { access: "servers.read", scope: "server" },
  // Onboarding (issue 4). Creating is global: a tag-scoped caller could otherwise tag a new
  // server outside its scope; accepting a changed host key overrides a security check.
  "ocore.api.v1.ServerService/CreateServer": global("servers.write", "server.create"),
  "ocore.api.v1.ServerService/RetryProvisioning": {
    access: "servers.write",
    scope: "server",
    target: serverById,
    action: "server.retry_provisioning",
  },
  "ocore.api.v1.ServerService/DeleteServer": {
    access: "servers.write",
    scope: "server",
    target: serverById,
    action: "server.delete",
  },
  "ocore.api.v1.ServerService/ForgetCredentials": {
    access: "servers.write",
    scope: "server",
    target: serverById,
    action: "server.forget_credentials",
  },
  "ocore.api.v1.ServerService/AcceptHostKey": {
    ...global("servers.write", "server.accept_host_key"),
    target: serverById, // global: only names the server in the audit log
  },

  // Agent channel (issue 3). GetLatestSnapshots is global until its handler filters by scope.
  "ocore.api.v1.MetricsService/GetSeries": {
    access: "metrics.read",
    scope: "server",
    target: serverByServerId,
  },
  "ocore.api.v1.MetricsService/GetLatestSnapshots": { access: "metrics.read", scope: "server" },
  // Live console views (issue 7): WatchFleet sends only the servers the caller may see.
  "ocore.api.v1.FleetService/WatchFleet": { access: "servers.read", scope: "server" },
  // The overview's fleet summary (issue 21): aggregates over the servers the caller may see.
  "ocore.api.v1.FleetService/GetFleetSummary": { access: "servers.read", scope: "server" },
  "ocore.api.v1.FleetService/GetDeviceSeries": {
    access: "metrics.read",
    scope: "server",
    target: serverByServerId,
  },
  "ocore.api.v1.EnrollmentTokenService/CreateEnrollmentToken": {
    access: "servers.write",
    scope: "server",
    target: serverByServerId,
    action: "server.enrollment_token.create",
  },

  // Joining from the host (issue 22): global like CreateServer (it may create a tagged server).
  "ocore.api.v1.JoinService/CreateJoinCommand": global("servers.write", "server.join_command.create"),
  "ocore.api.v1.JoinService/ListJoinCommands": global("servers.write"),
  "ocore.api.v1.JoinService/RevokeJoinCommand": global("servers.write", "server.join_command.revoke"),

  // The agent release (issue 4): upgrading an agent changes what runs on its host.
  "ocore.api.v1.AgentReleaseService/GetRelease": { access: "servers.read", scope: "server" },
  "ocore.api.v1.AgentReleaseService/UpgradeAgent": {
    access: "servers.write",
    scope: "server",
    target: serverByServerId,
    action: "agent.upgrade",
  },

  // Commands (issue 6): read with the server's servers.read, stop with commands.run.
  "ocore.api.v1.CommandService/GetCommand": {
    access: "servers.read",
    scope: "server",
    target: serverOfCommand,
  },
  "ocore.api.v1.CommandService/ListCommands": {
    access: "servers.read",
    scope: "server",
    target: serverByServerId,
  },
  "ocore.api.v1.CommandService/WatchCommand": {
    access: "servers.read",
    scope: "server",
    target: serverOfCommand,
  },
  "ocore.api.v1.CommandService/CancelCommand": {
    access: "commands.run",
    scope: "server",
    target: serverOfCommand,
    action: "command.cancel",
  },

  // Docker operations (issue 6): each runs as a command on the named server's agent.
  ...dockerPolicies(),

  // Odoo instances and backups (issue 6): scoped to the instance's server.
  ...instancePolicies(),

  // Command templates and runs (issue 17): templates are not about servers (held anywhere);
  // approving one is global; a run is checked per target host by its handler (commands.run).
  "ocore.api.v1.TemplateService/ListTemplates": { access: "templates.read", scope: "server" },
  "ocore.api.v1.TemplateService/GetTemplate": { access: "templates.read", scope: "server" },
  "ocore.api.v1.TemplateService/CreateTemplate": {
    access: "templates.write",
    scope: "server",
    action: "template.create",
  },
  "ocore.api.v1.TemplateService/UpdateTemplate": {
    access: "templates.write",
    scope: "server",
    action: "template.update",
  },
  "ocore.api.v1.TemplateService/ApproveVersion": global("templates.approve", "template.approve"),
  "ocore.api.v1.TemplateService/RejectVersion": global("templates.approve", "template.reject"),
  "ocore.api.v1.TemplateService/PreviewRun": { access: "commands.run", scope: "server" },
  "ocore.api.v1.RunService/StartRun": { access: "commands.run", scope: "server", action: "run.start" },
  "ocore.api.v1.RunService/RerunFailed": { access: "commands.run", scope: "server", action: "run.start" },
  "ocore.api.v1.RunService/CancelRun": { access: "commands.run", scope: "server", action: "run.cancel" },
  "ocore.api.v1.RunService/StartAdhocRun": { access: "commands.adhoc", scope: "server", action: "run.adhoc" },
  "ocore.api.v1.RunService/CheckAdhocCommand": { access: "commands.adhoc", scope: "server" },
  "ocore.api.v1.RunService/ResumeRun": { access: "commands.run", scope: "server", action: "run.resume" },
  "ocore.api.v1.RunService/GetRun": { access: "servers.read", scope: "server" },
  "ocore.api.v1.RunService/ListRuns": { access: "servers.read", scope: "server" },
  "ocore.api.v1.RunService/WatchRun": { access: "servers.read", scope: "server" },

  // Alerts (issue 16): alerts are listed per the caller's servers; rules and channels are global.
  "ocore.api.v1.AlertService/ListAlerts": { access: "alerts.read", scope: "server" },
  // The handler limits the servers read to the caller's diagnosis.run scope; conversations are the caller's own.
  "ocore.api.v1.DiagnosisService/Diagnose": {
    access: "diagnosis.run",
    scope: "server",
    action: "diagnosis.run",
  },
  "ocore.api.v1.DiagnosisService/GetConversation": { access: "diagnosis.run", scope: "server" },
  "ocore.api.v1.DiagnosisService/ListConversations": { access: "diagnosis.run", scope: "server" },
  "ocore.api.v1.AlertService/ListRules": global("alerts.read"),
  "ocore.api.v1.AlertService/CreateRule": global("alerts.manage", "alert.rule.create"),
  "ocore.api.v1.AlertService/DeleteRule": global("alerts.manage", "alert.rule.delete"),
  // Channel settings may hold tokens in a webhook URL: reading them is for managers only.
  "ocore.api.v1.AlertService/ListChannels": global("alerts.manage"),
  "ocore.api.v1.AlertService/CreateChannel": global("alerts.manage", "alert.channel.create"),
  "ocore.api.v1.AlertService/DeleteChannel": global("alerts.manage", "alert.channel.delete"),
  "ocore.api.v1.AlertService/TestChannel": global("alerts.manage", "alert.channel.test"),
  "ocore.api.v1.AlertService/ListDeliveries": global("alerts.manage"),
  "ocore.api.v1.AlertService/WatchAlerts": { access: "alerts.read", scope: "server" },
  "ocore.api.v1.AlertService/ListServerChecks": {
    access: "alerts.read",
    scope: "server",
    target: serverByServerId,
  },
  "ocore.api.v1.AlertService/ListSilences": global("alerts.read"),
  "ocore.api.v1.AlertService/CreateSilence": global("alerts.manage", "alert.silence.create"),
  "ocore.api.v1.AlertService/EndSilence": global("alerts.manage", "alert.silence.end"),
  "ocore.api.v1.AlertService/AcknowledgeAlert": {
    // Whoever is on call (operators, scoped to their servers) takes an alert; decision 0122.
    access: "alerts.acknowledge",
    scope: "server",
    target: serverOfAlert,
    action: "alert.acknowledge",
  },

  // SSH sessions and their recordings (issue 15): read and ended per the session's server.
  "ocore.api.v1.SshSessionService/ListSessions": { access: "sessions.read", scope: "server" },
  "ocore.api.v1.SshSessionService/GetSession": {
    access: "sessions.read",
    scope: "server",
    target: serverOfSession,
  },
  "ocore.api.v1.SshSessionService/GetRecording": {
    access: "sessions.read",
    scope: "server",
    target: serverOfSession,
  },
  "ocore.api.v1.SshSessionService/SearchRecordings": { access: "sessions.read", scope: "server" },
  "ocore.api.v1.SshSessionService/EndSession": {
    access: "sessions.manage",
    scope: "server",
    target: serverOfSession,
    action: "ssh.session.end",
  },
};

/** InstanceService and BackupService: instances.read to look, instances.write to change. */
function instancePolicies(): Record<string, RpcPolicy> {
  const on = (access: Permission, target: RpcPolicy["target"], action?: string): RpcPolicy => ({
    access,
    scope: "server",
    target,
    action,
  });
  const instance = "ocore.api.v1.InstanceService";
  const backup = "ocore.api.v1.BackupService";
  const byId = serverOfInstance("id");
  const byInstanceId = serverOfInstance("instanceId");
  return {
    [`${instance}/CreateInstance`]: on("instances.write", serverByServerId, "instance.create"),
    [`${instance}/GetInstance`]: on("instances.read", byId),
    [`${instance}/ListInstances`]: { access: "instances.read", scope: "server" },
    [`${instance}/StartInstance`]: on("instances.write", byId, "instance.start"),
    [`${instance}/StopInstance`]: on("instances.write", byId, "instance.stop"),
    [`${instance}/RestartInstance`]: on("instances.write", byId, "instance.restart"),
    [`${instance}/DeleteInstance`]: on("instances.write", byId, "instance.delete"),
    [`${instance}/WatchLogs`]: on("instances.read", byId),
    [`${backup}/CreateBackup`]: on("instances.write", byInstanceId, "backup.create"),
    [`${backup}/ListBackups`]: on("instances.read", byInstanceId),
    [`${backup}/DownloadBackup`]: on("instances.read", serverOfBackup),
    [`${backup}/RestoreBackup`]: on("instances.write", serverOfBackup, "backup.restore"),
    [`${backup}/GetRetention`]: on("instances.read", byInstanceId),
    [`${backup}/SetRetention`]: on("instances.write", byInstanceId, "backup.retention.set"),
    [`${backup}/DeleteBackup`]: on("instances.write", serverOfBackup, "backup.delete"),
    [`${backup}/GetBackupSchedule`]: on("instances.read", byInstanceId),
    [`${backup}/SetBackupSchedule`]: on("instances.write", byInstanceId, "backup.schedule.set"),
  };
}

/** DockerService: reads with servers.read, changes with commands.run, on the server named by server_id. */
function dockerPolicies(): Record<string, RpcPolicy> {
  const read: RpcPolicy = { access: "servers.read", scope: "server", target: serverByServerId };
  const change = (action: string): RpcPolicy => ({
    access: "commands.run",
    scope: "server",
    target: serverByServerId,
    action,
  });
  const service = "ocore.api.v1.DockerService";
  return {
    [`${service}/ListContainers`]: read,
    [`${service}/InspectContainer`]: read,
    [`${service}/GetContainerStats`]: read,
    [`${service}/StreamContainerLogs`]: read,
    [`${service}/ListImages`]: read,
    [`${service}/InspectImage`]: read,
    [`${service}/CreateContainer`]: change("docker.container.create"),
    [`${service}/StartContainer`]: change("docker.container.start"),
    [`${service}/StopContainer`]: change("docker.container.stop"),
    [`${service}/RestartContainer`]: change("docker.container.restart"),
    [`${service}/RemoveContainer`]: change("docker.container.remove"),
    [`${service}/ExecInContainer`]: change("docker.container.exec"),
    [`${service}/PullImage`]: change("docker.image.pull"),
    [`${service}/PruneDocker`]: change("docker.prune"),
  };
}
