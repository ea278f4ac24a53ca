/**
 * Every permission there is: resource.action. Roles are sets of these; every RPC declares the
 * one it needs (api/rpc-policies.ts).
 */
export const permissions = [
  "system.read",
  "servers.read",
  "servers.write",
  "servers.import",
  "instances.read",
  "instances.write",
  "commands.run",
  "commands.adhoc",
  "terminal.open",
  "servers.ssh",
  "servers.ssh.forward",
  "metrics.read",
  "audit.read",
  "users.read",
  "users.manage",
  "tokens.manage",
  "alerts.read",
  "alerts.manage",
  "alerts.acknowledge",
  "templates.read",
  "templates.write",
  "templates.approve",
  "sessions.read",
  "sessions.manage",
  "diagnosis.run",
] as const;

export type Permission = (typeof permissions)[number];

export function isPermission(value: string): value is Permission {
  return (permissions as readonly string[]).includes(value);
}

export interface BuiltinRole {
  readonly name: string;
  readonly description: string;
  readonly permissions: readonly Permission[];
}

const readOnly: Permission[] = [
  "system.read",
  "servers.read",
  "instances.read",
  "metrics.read",
  "alerts.read",
  "templates.read",
  "diagnosis.run",
];

/** The built-in roles, kept in the database by `ensureBuiltinRoles` so bindings can reference them. */
export const builtinRoles: readonly BuiltinRole[] = [
  { name: "owner", description: "Everything, including managing owners.", permissions: [...permissions] },
  {
    name: "admin",
    description: "Everything: servers, instances, users, tokens and the audit log.",
    permissions: [...permissions],
  },
  {
    name: "operator",
    description:
      "Operates servers and instances: commands, terminals and the SSH gateway, acknowledges alerts; no user management.",
    permissions: [
      ...readOnly,
      "alerts.acknowledge",
      "servers.write",
      "instances.write",
      "commands.run",
      "terminal.open",
      "templates.write",
      "servers.ssh",
      "servers.ssh.forward",
    ],
  },
  {
    name: "auditor",
    description:
      "Reads everything a viewer reads, the audit log and SSH session recordings; changes nothing.",
    permissions: [...readOnly, "audit.read", "sessions.read"],
  },
  {
    name: "viewer",
    description: "Reads servers, instances and metrics; changes nothing.",
    permissions: readOnly,
  },
];
