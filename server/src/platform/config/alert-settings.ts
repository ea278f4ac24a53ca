import { type SettingSpec, thresholdPair, wholeNumber } from "./setting-schemas.js";

/** Alert evaluation, the built-in rules' thresholds and notification timing (OCORE_ALERT_*). */
export const alertSettings = {
  OCORE_ALERT_EVALUATE_EVERY_SECONDS: {
    env: "OCORE_ALERT_EVALUATE_EVERY_SECONDS",
    description: "How often alert rules are evaluated, in seconds (1-3600); one replica evaluates at a time.",
    defaultValue: "10",
    secret: false,
    schema: wholeNumber(1, 3600),
  },
  OCORE_ALERT_DISK_WARN_PERCENT: {
    env: "OCORE_ALERT_DISK_WARN_PERCENT",
    description: "A mount this full (percent used, 1-100) raises a warning alert.",
    defaultValue: "80",
    secret: false,
    schema: wholeNumber(1, 100),
  },
  OCORE_ALERT_DISK_CRITICAL_PERCENT: {
    env: "OCORE_ALERT_DISK_CRITICAL_PERCENT",
    description:
      "A mount this full (percent used, 1-100, at least the warn threshold) makes the alert critical.",
    defaultValue: "90",
    secret: false,
    schema: wholeNumber(1, 100),
  },
  OCORE_ALERT_DISK_FOR_SECONDS: {
    env: "OCORE_ALERT_DISK_FOR_SECONDS",
    description:
      "How long a mount must stay over the warn threshold before its alert fires, in seconds (0-86400).",
    defaultValue: "300",
    secret: false,
    schema: wholeNumber(0, 86400),
  },
  OCORE_ALERT_AGENT_OFFLINE_FOR_SECONDS: {
    env: "OCORE_ALERT_AGENT_OFFLINE_FOR_SECONDS",
    description:
      "How long a server must stay offline before the host-lost alert fires, in seconds (0-86400).",
    defaultValue: "60",
    secret: false,
    schema: wholeNumber(0, 86400),
  },
  OCORE_ALERT_MEMORY_PERCENT: {
    env: "OCORE_ALERT_MEMORY_PERCENT",
    description:
      "Memory pressure: percent of memory in use (not reclaimable), WARN,CRITICAL (built-in rule, per server).",
    defaultValue: "90,95",
    secret: false,
    schema: thresholdPair(1, 100, "up"),
  },
  OCORE_ALERT_SWAP_PERCENT: {
    env: "OCORE_ALERT_SWAP_PERCENT",
    description: "Swap pressure: percent of swap in use, WARN,CRITICAL (hosts without swap are not judged).",
    defaultValue: "50,80",
    secret: false,
    schema: thresholdPair(1, 100, "up"),
  },
  OCORE_ALERT_LOAD_PER_CORE: {
    env: "OCORE_ALERT_LOAD_PER_CORE",
    description: "5-minute load average per CPU core, WARN,CRITICAL.",
    defaultValue: "2,4",
    secret: false,
    schema: thresholdPair(0.1, 1000, "up"),
  },
  OCORE_ALERT_CLOCK_SKEW_SECONDS: {
    env: "OCORE_ALERT_CLOCK_SKEW_SECONDS",
    description: "Clock skew between a host and this server, in seconds either way, WARN,CRITICAL.",
    defaultValue: "10,60",
    secret: false,
    schema: thresholdPair(1, 86400, "up"),
  },
  OCORE_ALERT_CERTIFICATE_DAYS: {
    env: "OCORE_ALERT_CERTIFICATE_DAYS",
    description:
      "Days left before an agent's certificate expires (agents renew theirs well before), WARN,CRITICAL.",
    defaultValue: "14,3",
    secret: false,
    schema: thresholdPair(0, 3650, "down"),
  },
  OCORE_ALERT_DISK_FULL_HOURS: {
    env: "OCORE_ALERT_DISK_FULL_HOURS",
    description:
      "Hours until the fullest filesystem is full at the last hour's rate (linear fit), WARN,CRITICAL.",
    defaultValue: "48,12",
    secret: false,
    schema: thresholdPair(0.1, 100000, "down"),
  },
  OCORE_ALERT_HOST_CHECK_FOR_SECONDS: {
    env: "OCORE_ALERT_HOST_CHECK_FOR_SECONDS",
    description:
      "How long memory, swap, load, clock skew, restart loops or a disk filling up must hold before alerting, in seconds (0-86400).",
    defaultValue: "300",
    secret: false,
    schema: wholeNumber(0, 86400),
  },
  OCORE_ALERT_GROUP_WAIT_SECONDS: {
    env: "OCORE_ALERT_GROUP_WAIT_SECONDS",
    description:
      "How long a server's first alerts wait to be sent together in one message, in seconds (0-3600).",
    defaultValue: "30",
    secret: false,
    schema: wholeNumber(0, 3600),
  },
  OCORE_ALERT_GROUP_INTERVAL_SECONDS: {
    env: "OCORE_ALERT_GROUP_INTERVAL_SECONDS",
    description:
      "The least time between two messages about one server's alerts (new ones, resolved ones), in seconds (0-86400).",
    defaultValue: "300",
    secret: false,
    schema: wholeNumber(0, 86400),
  },
  OCORE_ALERT_REPEAT_INTERVAL_SECONDS: {
    env: "OCORE_ALERT_REPEAT_INTERVAL_SECONDS",
    description:
      "How often alerts still firing and not acknowledged are sent again, in seconds (0-604800; 0: never).",
    defaultValue: "14400",
    secret: false,
    schema: wholeNumber(0, 604800),
  },
  OCORE_ALERT_FLAP_THRESHOLD: {
    env: "OCORE_ALERT_FLAP_THRESHOLD",
    description:
      "An alert that fired this many times within the flap window is flapping: sent once, then held until it calms down (0-100; 0: off).",
    defaultValue: "4",
    secret: false,
    schema: wholeNumber(0, 100),
  },
  OCORE_ALERT_FLAP_WINDOW_SECONDS: {
    env: "OCORE_ALERT_FLAP_WINDOW_SECONDS",
    description: "The window of flap detection, in seconds (60-86400).",
    defaultValue: "1800",
    secret: false,
    schema: wholeNumber(60, 86400),
  },
} as const satisfies Record<string, SettingSpec>;
