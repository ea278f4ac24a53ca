import path from "node:path";
// zod/mini: the same checks as zod's classic API in a fraction of the code the agent must load
// and keep in memory (bench/README.md, "Real agent footprint"). It carries no error texts of
// its own, so every check below says what it expects.
import * as z from "zod/mini";

const wholeNumber = (min: number, max: number, range: string) =>
  z.pipe(
    z.coerce.number(`expected a number ${range}`),
    z
      .int(`expected a whole number ${range}`)
      .check(z.minimum(min, `must be ${range}`), z.maximum(max, `must be ${range}`)),
  );

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * The agent's configuration. Every key is an environment variable; `agent/config.example.env`
 * documents each with its default. The agent holds no secret in its environment: its identity
 * is the key and certificate under the state directory.
 */
const schema = z.object({
  OCORE_AGENT_SERVER: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/,
          "expected host:port of the control server's agent gateway",
        ),
      ),
  ),
  OCORE_AGENT_STATE_DIR: z._default(
    z.string().check(z.minLength(1, "must not be empty")),
    "/var/lib/ocore-agent",
  ),
  OCORE_AGENT_LOG_LEVEL: z._default(z.enum(logLevels, `expected one of ${logLevels.join(", ")}`), "info"),
  OCORE_AGENT_METRICS_INTERVAL_SECONDS: z._default(wholeNumber(1, 3600, "from 1 to 3600"), 10),
  // A sample is 0.2-2 KB: 1 MiB still holds over an hour at 10 s, 16 MiB a day or more.
  OCORE_AGENT_SPOOL_MAX_BYTES: z._default(
    wholeNumber(1024 * 1024, 1024 * 1024 * 1024, "from 1048576 (1 MiB) to 1073741824 (1 GiB)"),
    16 * 1024 * 1024,
  ),
  OCORE_AGENT_CHECK_INTERVAL_SECONDS: z._default(wholeNumber(1, 3600, "from 1 to 3600"), 30),
  OCORE_AGENT_START_CHECK_MINUTES: z._default(wholeNumber(0, 10080, "from 0 (off) to 10080"), 360),
  OCORE_AGENT_DOCKER_SOCKET: z._default(
    z.string().check(z.regex(/^(\/.+|off)$/, 'expected an absolute socket path or "off"')),
    "/var/run/docker.sock",
  ),
  // Full-jitter backoff: the n-th retry waits up to min(cap, 2^n s); a fleet spreads over the cap.
  OCORE_AGENT_RECONNECT_MAX_SECONDS: z._default(wholeNumber(1, 3600, "from 1 to 3600"), 60),
});

export interface AgentConfig {
  readonly server: string | undefined;
  readonly stateDir: string;
  readonly logLevel: (typeof logLevels)[number];
  readonly metricsIntervalMs: number;
  readonly spoolMaxBytes: number;
  /** undefined when Docker collection is off. */
  readonly dockerSocket: string | undefined;
  /** The cap of the reconnect backoff. */
  readonly reconnectMaxMs: number;
  /** The host checks' cycle (Docker ping, sshd, inodes). */
  readonly checkIntervalMs: number;
  /** How often the "Docker can start a container" check runs; 0: never. */
  readonly startCheckEveryMs: number;
}

export class AgentConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = "AgentConfigError";
  }
}

export function loadAgentConfig(
  env: Readonly<Record<string, string | undefined>>,
  cwd = process.cwd(),
): AgentConfig {
  const known = new Set(Object.keys(schema.shape));
  for (const name of Object.keys(env)) {
    if (name.startsWith("OCORE_AGENT_") && !known.has(name)) {
      throw new AgentConfigError(name, "is not a setting the agent knows. See agent/config.example.env.");
    }
  }
  const present = Object.fromEntries([...known].map((key) => [key, env[key] === "" ? undefined : env[key]]));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const setting = String(issue?.path[0] ?? "configuration");
    throw new AgentConfigError(
      setting,
      `invalid value "${env[setting] ?? ""}": ${issue?.message}. Fix it or unset it.`,
    );
  }
  const values = parsed.data;
  return {
    server: values.OCORE_AGENT_SERVER,
    stateDir: path.resolve(cwd, values.OCORE_AGENT_STATE_DIR),
    logLevel: values.OCORE_AGENT_LOG_LEVEL,
    metricsIntervalMs: values.OCORE_AGENT_METRICS_INTERVAL_SECONDS * 1000,
    spoolMaxBytes: values.OCORE_AGENT_SPOOL_MAX_BYTES,
    dockerSocket: values.OCORE_AGENT_DOCKER_SOCKET === "off" ? undefined : values.OCORE_AGENT_DOCKER_SOCKET,
    reconnectMaxMs: values.OCORE_AGENT_RECONNECT_MAX_SECONDS * 1000,
    checkIntervalMs: values.OCORE_AGENT_CHECK_INTERVAL_SECONDS * 1000,
    startCheckEveryMs: values.OCORE_AGENT_START_CHECK_MINUTES * 60_000,
  };
}
