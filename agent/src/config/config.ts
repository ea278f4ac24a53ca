import path from "node:path";
import { z } from "zod";

/**
 * The agent's configuration. Every key is an environment variable; `agent/config.example.env`
 * documents each with its default. The agent holds no secret in its environment: its identity
 * is the key and certificate under the state directory.
 */
const schema = z.object({
  OCORE_AGENT_SERVER: z
    .string()
    .regex(
      /^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/,
      "expected host:port of the control server's agent gateway",
    )
    .optional(),
  OCORE_AGENT_STATE_DIR: z.string().min(1, "must not be empty").default("/var/lib/ocore-agent"),
  OCORE_AGENT_LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info"),
  OCORE_AGENT_METRICS_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  // A sample is 0.2-2 KB: 1 MiB still holds over an hour at 10 s, 16 MiB a day or more.
  OCORE_AGENT_SPOOL_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024, "must be at least 1048576 (1 MiB)")
    .max(1024 * 1024 * 1024, "must be at most 1 GiB")
    .default(16 * 1024 * 1024),
  OCORE_AGENT_DOCKER_SOCKET: z
    .string()
    .regex(/^(\/.+|off)$/, 'expected an absolute socket path or "off"')
    .default("/var/run/docker.sock"),
});

export interface AgentConfig {
  readonly server: string | undefined;
  readonly stateDir: string;
  readonly logLevel: z.output<typeof schema>["OCORE_AGENT_LOG_LEVEL"];
  readonly metricsIntervalMs: number;
  readonly spoolMaxBytes: number;
  /** undefined when Docker collection is off. */
  readonly dockerSocket: string | undefined;
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
  };
}
