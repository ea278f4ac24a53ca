import { z } from "zod";
import { listenAddress, onOff, type SettingSpec, wholeNumber } from "./setting-schemas.js";

/** The SSH gateway and its session recordings (OCORE_SSH_*). */
export const sshSettings = {
  OCORE_SSH_LISTEN_ADDR: {
    env: "OCORE_SSH_LISTEN_ADDR",
    description:
      "Address the SSH gateway listens on (host:port; the origin document's SSH_LISTEN_ADDR), or off. Users reach hosts with `ssh -p 2222 user+server@gateway`.",
    defaultValue: "0.0.0.0:2222",
    secret: false,
    schema: z.union([z.literal("off"), listenAddress]),
  },
  OCORE_SSH_LOGIN_GRACE_SECONDS: {
    env: "OCORE_SSH_LOGIN_GRACE_SECONDS",
    description:
      "An SSH gateway connection that has not finished its handshake and authentication within this many seconds is closed (like OpenSSH's LoginGraceTime; 1 to 600).",
    defaultValue: "60",
    secret: false,
    schema: wholeNumber(1, 600),
  },
  OCORE_SSH_IDLE_TIMEOUT_SECONDS: {
    env: "OCORE_SSH_IDLE_TIMEOUT_SECONDS",
    description:
      "An SSH gateway session with no bytes either way for this long is ended, in seconds (0: never, up to 604800).",
    defaultValue: "1800",
    secret: false,
    schema: wholeNumber(0, 604_800),
  },
  OCORE_SSH_MAX_SESSION_SECONDS: {
    env: "OCORE_SSH_MAX_SESSION_SECONDS",
    description:
      "Longest an SSH gateway session may last, in seconds (0: no limit, up to 604800); it is ended with a message then.",
    defaultValue: "43200",
    secret: false,
    schema: wholeNumber(0, 604_800),
  },
  OCORE_SSH_MAX_SESSIONS_PER_USER: {
    env: "OCORE_SSH_MAX_SESSIONS_PER_USER",
    description: "Most SSH gateway connections one user (or API token) may have open at once (1-1000).",
    defaultValue: "10",
    secret: false,
    schema: wholeNumber(1, 1000),
  },
  OCORE_SSH_MAX_SESSIONS_PER_HOST: {
    env: "OCORE_SSH_MAX_SESSIONS_PER_HOST",
    description: "Most SSH gateway connections open at once to one server (1-1000).",
    defaultValue: "50",
    secret: false,
    schema: wholeNumber(1, 1000),
  },
  OCORE_SSH_RECORD_INPUT: {
    env: "OCORE_SSH_RECORD_INPUT",
    description:
      'Record what users type in SSH sessions (asciicast "i" events), on or off. Off records output and resizes only; typed passwords are then never stored.',
    defaultValue: "off",
    secret: false,
    schema: onOff,
  },
  OCORE_SSH_RECORDING_MAX_MB: {
    env: "OCORE_SSH_RECORDING_MAX_MB",
    description:
      "Largest recording of one SSH session, in MB (1-10240). A session that reaches it is ended (fail closed), with a message; its recording is kept up to that point.",
    defaultValue: "256",
    secret: false,
    schema: wholeNumber(1, 10240),
  },
  OCORE_SSH_RECORDING_RETENTION_DAYS: {
    env: "OCORE_SSH_RECORDING_RETENTION_DAYS",
    description: "Days SSH sessions and their recordings are kept after they end (1-3650).",
    defaultValue: "90",
    secret: false,
    schema: wholeNumber(1, 3650),
  },
} as const satisfies Record<string, SettingSpec>;
