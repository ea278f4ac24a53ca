import type { Thresholds } from "../../platform/config/alert-config.js";
import type { CheckKey, CheckState, HostCheckInput } from "./host-check-input.js";

/** A warning inode check is back to ok only this many points below the warn threshold. */
const INODE_RECOVERY_POINTS = 5;

/**
 * The state the server keeps for one result: the agent's own state, except for inodes, which are
 * judged here against the server's thresholds, with hysteresis (a check at warning or critical
 * stays warning until the value is INODE_RECOVERY_POINTS below the warn threshold), and an
 * instance's cron lag (the value in seconds, against the thresholds in minutes).
 */
export function judgeCheck(
  check: HostCheckInput,
  previous: CheckState | undefined,
  thresholds: { readonly inodes: Thresholds; readonly cronLagMinutes: Thresholds },
): CheckState {
  if (check.key === "odoo_cron") {
    if (check.value === undefined || check.state === "unknown") return "unknown";
    const minutes = check.value / 60;
    const { warn, critical } = thresholds.cronLagMinutes;
    return minutes >= critical ? "critical" : minutes >= warn ? "warning" : "ok";
  }
  if (check.key !== "inodes") return check.state;
  const inodes = thresholds.inodes;
  const value = check.value;
  if (value === undefined) return "unknown";
  if (value >= inodes.critical) return "critical";
  if (value >= inodes.warn) return "warning";
  if ((previous === "warning" || previous === "critical") && value > inodes.warn - INODE_RECOVERY_POINTS) {
    return "warning";
  }
  return "ok";
}

/** What to do about a check that is not ok, in one sentence, for the health panel and alerts. */
export function checkAction(key: CheckKey, subject: string, serverName: string): string {
  switch (key) {
    case "docker":
      return `The Docker daemon on ${serverName} does not answer: run \`systemctl status docker\` and \`journalctl -u docker --since -1h\` on it, then \`systemctl restart docker\`. Instances cannot be started, stopped or backed up meanwhile.`;
    case "docker_start":
      return `Docker on ${serverName} answers but cannot start a container: look for a full disk (\`df -h /var/lib/docker\`), a broken runtime or cgroup setup (\`journalctl -u docker -u containerd\`), then restart Docker.`;
    case "sshd":
      return `sshd on ${serverName} is not running or not listening: run \`systemctl status ssh\` (or \`sshd\`) on it through the console's terminal and start it; the SSH gateway and onboarding need it.`;
    case "inodes":
      return `${subject} on ${serverName} is running out of inodes (many small files): find them with \`du --inodes -x ${subject} | sort -n | tail\` (session files, mail queues, caches) and delete them, or rebuild the filesystem with more inodes.`;
    case "odoo_containers":
      return `A container of instance ${subject} on ${serverName} is not running: read why on the instance's page (state, exit code, out of memory) and its logs (\`docker logs --tail 100 ocore-${subject}-odoo\`, \`-db\`), then start the instance again from the console.`;
    case "odoo_web":
      return `Odoo of instance ${subject} on ${serverName} does not answer its health check: read its logs on the instance's page (database unreachable, a failed module upgrade, workers killed for memory), then restart the instance; users cannot reach it meanwhile.`;
    case "odoo_realtime":
      return `The real-time port of instance ${subject} on ${serverName} does not answer (chat, notifications and live updates stop): check that Odoo runs with workers and its gevent process is up (\`docker logs ocore-${subject}-odoo | grep -i gevent\`), and that the reverse proxy forwards /websocket (or /longpolling before Odoo 16) to it.`;
    case "odoo_cron":
      return `Scheduled actions of instance ${subject} on ${serverName} are late: Odoo's cron workers are busy, stuck on a long job or disabled (\`max_cron_threads = 0\`). Look for "cron" in its logs on the instance's page, and at Settings > Technical > Scheduled Actions for a job that runs for hours.`;
    case "odoo_mail":
      return `E-mail of instance ${subject} on ${serverName} is not leaving: see the failed messages under Settings > Technical > Emails (state "Delivery Failed") for the SMTP server's answer, fix the outgoing mail server's settings, then retry them.`;
  }
}

/** A check's name as people read it. */
export function checkTitle(key: CheckKey, subject: string): string {
  switch (key) {
    case "docker":
      return "Docker daemon";
    case "docker_start":
      return "Docker can start containers";
    case "sshd":
      return "sshd";
    case "inodes":
      return `Inodes ${subject}`;
    case "odoo_containers":
      return `Containers of ${subject}`.trim();
    case "odoo_web":
      return `Odoo web ${subject}`.trim();
    case "odoo_realtime":
      return `Odoo real time ${subject}`.trim();
    case "odoo_cron":
      return `Scheduled actions of ${subject}`.trim();
    case "odoo_mail":
      return `Mail queue of ${subject}`.trim();
  }
}
