/** One check's outcome as the agent sends it (proto HostCheckResult). */
export interface CheckResult {
  readonly key:
    | "docker"
    | "docker_start"
    | "sshd"
    | "inodes"
    | "odoo_containers"
    | "odoo_web"
    | "odoo_realtime"
    | "odoo_cron"
    | "odoo_mail";
  readonly subject: string;
  readonly state: "ok" | "warning" | "critical" | "unknown";
  readonly value?: number;
  readonly message: string;
}

/** A message's text, bounded to what the server accepts (500 characters). */
export function sentence(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 480 ? `${flat.slice(0, 477)}...` : flat;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
