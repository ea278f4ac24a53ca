import {
  MAILPIT_SMTP_PORT,
  ODOO_DATA_PATH,
  ODOO_LONGPOLLING_PORT,
  ODOO_WEB_PORT,
} from "./instance-layout.js";

export interface OdooConfigInput {
  readonly adminPassword: string;
  readonly databasePassword: string;
  readonly workers: number;
  readonly edition: string;
  /** Memory limit of the container; Odoo's own limits are kept inside it. */
  readonly memoryBytes: bigint;
}

/** The database Odoo uses; the backup and restore commands name it too. */
export const ODOO_DATABASE = "odoo";
export const ODOO_DATABASE_USER = "odoo";

/**
 * The instance's odoo.conf. The database and Mailpit are reached by their network aliases
 * (`db`, `mail`); passwords are written as given (the server generated them, they hold no
 * newline). Holds secrets: never log the result.
 */
export function renderOdooConfig(input: OdooConfigInput): string {
  for (const [field, value] of [
    ["admin_password", input.adminPassword],
    ["database_password", input.databasePassword],
  ] as const) {
    if (!/^[\x21-\x7e]{12,128}$/.test(value)) {
      throw new Error(`${field} must be 12-128 printable characters without spaces`);
    }
  }
  const lines = [
    "; Written by oCore when the instance was created.",
    `; edition: ${input.edition}`,
    "[options]",
    `admin_passwd = ${input.adminPassword}`,
    "db_host = db",
    "db_port = 5432",
    `db_user = ${ODOO_DATABASE_USER}`,
    `db_password = ${input.databasePassword}`,
    `db_name = ${ODOO_DATABASE}`,
    `dbfilter = ^${ODOO_DATABASE}$`,
    "list_db = False",
    `data_dir = ${ODOO_DATA_PATH}`,
    `http_port = ${ODOO_WEB_PORT}`,
    `gevent_port = ${ODOO_LONGPOLLING_PORT}`,
    "proxy_mode = True",
    `workers = ${input.workers}`,
    "smtp_server = mail",
    `smtp_port = ${MAILPIT_SMTP_PORT}`,
  ];
  if (input.memoryBytes > 0n) {
    // Odoo recycles a worker above the soft limit and kills it above the hard one.
    const perWorker = input.memoryBytes / BigInt(Math.max(1, input.workers + 1));
    lines.push(`limit_memory_soft = ${(perWorker * 8n) / 10n}`, `limit_memory_hard = ${perWorker}`);
  }
  return `${lines.join("\n")}\n`;
}
