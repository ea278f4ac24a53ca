import { CommandError } from "../commands/command-handler.js";

/** The three containers of an instance, in start order. */
export const INSTANCE_ROLES = ["db", "mail", "odoo"] as const;
export type InstanceRole = (typeof INSTANCE_ROLES)[number];

export const INSTANCE_LABEL = "ocore.instance";
export const ROLE_LABEL = "ocore.role";

/** Where the images keep their data (the official PostgreSQL and Odoo images). */
export const POSTGRES_DATA_PATH = "/var/lib/postgresql/data";
export const ODOO_DATA_PATH = "/var/lib/odoo";
export const ODOO_CONFIG_PATH = "/etc/odoo";
/** Container ports: Odoo web and longpolling, Mailpit's web UI and SMTP. */
export const ODOO_WEB_PORT = 8069;
export const ODOO_LONGPOLLING_PORT = 8072;
export const MAILPIT_WEB_PORT = 8025;
export const MAILPIT_SMTP_PORT = 1025;

/** The host address of the ports that must not face the network (decision 0140). */
export const LOOPBACK = "127.0.0.1";

type PortBindings = Record<string, { HostIp?: string; HostPort: string }[]>;

/**
 * Where an instance's ports are published on the host, from its block's first port:
 * +0 Odoo web on every interface (the reverse proxy or the user reaches it), +1 Odoo
 * longpolling and +2 Mailpit's web UI on loopback only. Mailpit has no login and shows every
 * captured email; longpolling belongs behind the same reverse proxy as the web port. Both are
 * reached from outside through an SSH tunnel (decision 0140).
 */
export function instancePortBindings(basePort: number): { odoo: PortBindings; mail: PortBindings } {
  return {
    odoo: {
      [`${ODOO_WEB_PORT}/tcp`]: [{ HostPort: String(basePort) }],
      [`${ODOO_LONGPOLLING_PORT}/tcp`]: [{ HostIp: LOOPBACK, HostPort: String(basePort + 1) }],
    },
    mail: { [`${MAILPIT_WEB_PORT}/tcp`]: [{ HostIp: LOOPBACK, HostPort: String(basePort + 2) }] },
  };
}

const NAME = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Docker object names of one instance (everything is prefixed `ocore-<name>`). */
export interface InstanceLayout {
  readonly network: string;
  readonly container: Readonly<Record<InstanceRole, string>>;
  readonly volumes: { readonly db: string; readonly data: string; readonly config: string };
}

export function instanceLayout(name: string): InstanceLayout {
  const prefix = `ocore-${checkInstanceName(name)}`;
  return {
    network: prefix,
    container: { db: `${prefix}-db`, mail: `${prefix}-mail`, odoo: `${prefix}-odoo` },
    volumes: { db: `${prefix}-db`, data: `${prefix}-data`, config: `${prefix}-config` },
  };
}

export function checkInstanceName(name: string): string {
  if (!NAME.test(name)) {
    throw new CommandError(
      "invalid_argument",
      `instance name "${name.slice(0, 60)}" is not valid: use 2-40 lowercase letters, digits and dashes, starting with a letter`,
    );
  }
  return name;
}

export function checkInstanceId(id: string): string {
  if (!UUID.test(id)) throw new CommandError("invalid_argument", "instance_id must be the instance's UUID");
  return id;
}

export function isInstanceRole(value: string): value is InstanceRole {
  return (INSTANCE_ROLES as readonly string[]).includes(value);
}

export function instanceLabels(instanceId: string, role?: InstanceRole): Record<string, string> {
  return role ? { [INSTANCE_LABEL]: instanceId, [ROLE_LABEL]: role } : { [INSTANCE_LABEL]: instanceId };
}
