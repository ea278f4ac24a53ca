/** The statuses ServerService reports, in the order filters list them. */
export const SERVER_STATUSES = [
  "active",
  "offline",
  "failed",
  "provisioning",
  "connecting",
  "connected",
  "pending",
  "removing",
] as const;
export type ServerStatus = (typeof SERVER_STATUSES)[number];

/** How a status looks: "success" is healthy, "danger" needs action, "warning" needs attention. */
export type StatusTone = "success" | "warning" | "danger" | "progress" | "neutral";

const STATUS_VIEW: Record<ServerStatus, { label: string; tone: StatusTone }> = {
  active: { label: "Active", tone: "success" },
  offline: { label: "Offline", tone: "warning" },
  failed: { label: "Failed", tone: "danger" },
  provisioning: { label: "Provisioning", tone: "progress" },
  connecting: { label: "Connecting", tone: "progress" },
  connected: { label: "Connected", tone: "progress" },
  // Imported: waits for SSH credentials or an agent enrolled with a token (its message says which).
  pending: { label: "Pending", tone: "neutral" },
  removing: { label: "Removing", tone: "neutral" },
};

export function isServerStatus(value: string): value is ServerStatus {
  return (SERVER_STATUSES as readonly string[]).includes(value);
}

/** The label and tone of a status; a status newer than this console is shown as given. */
export function describeServerStatus(status: string): { label: string; tone: StatusTone } {
  if (isServerStatus(status)) return STATUS_VIEW[status];
  return { label: status ? status.charAt(0).toUpperCase() + status.slice(1) : "Unknown", tone: "neutral" };
}

/** A failed status reason code ("auth_failed") in words ("auth failed"). */
export function formatStatusReason(reason: string): string {
  return reason.replaceAll("_", " ");
}
