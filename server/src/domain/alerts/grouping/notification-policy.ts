import type { AlertNotifySettings } from "../../../platform/config/alert-config.js";

/**
 * When grouped notifications go out (Alertmanager's timers, with flap damping). A group is one
 * server's alerts.
 */
export interface NotificationPolicy {
  /** A group with nothing firing told waits this long after its first change, to gather more. */
  readonly groupWaitMs: number;
  /** A group that has told something waits this long after its last message before the next. */
  readonly groupIntervalMs: number;
  /** Still-firing, unacknowledged alerts are told again this often; 0: never. */
  readonly repeatIntervalMs: number;
  /** An alert that fired this many times within flapWindowMs is flapping; 0: no flap detection. */
  readonly flapThreshold: number;
  readonly flapWindowMs: number;
}

/** The settings table's defaults (OCORE_ALERT_GROUP_WAIT_SECONDS and the others). */
export const defaultNotificationPolicy: NotificationPolicy = {
  groupWaitMs: 30_000,
  groupIntervalMs: 300_000,
  repeatIntervalMs: 4 * 3_600_000,
  flapThreshold: 4,
  flapWindowMs: 1_800_000,
};

/** Every change told in the cycle that made it, never repeated, no flap detection. */
export const immediateNotificationPolicy: NotificationPolicy = {
  groupWaitMs: 0,
  groupIntervalMs: 0,
  repeatIntervalMs: 0,
  flapThreshold: 0,
  flapWindowMs: 0,
};

/** The policy the settings say. */
export function notificationPolicyOf(settings: AlertNotifySettings): NotificationPolicy {
  return {
    groupWaitMs: settings.groupWaitSeconds * 1000,
    groupIntervalMs: settings.groupIntervalSeconds * 1000,
    repeatIntervalMs: settings.repeatIntervalSeconds * 1000,
    flapThreshold: settings.flapThreshold,
    flapWindowMs: settings.flapWindowSeconds * 1000,
  };
}
