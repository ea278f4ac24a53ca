import { CommandError } from "../commands/command-handler.js";

/**
 * Checks of spec fields before anything reaches Docker: a clear `invalid_argument` beats Docker's
 * terse 400s, and nothing malformed (a path, a flag-like string) is ever put into an Engine URL.
 */

const CONTAINER_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;
const CONTAINER_ID = /^[a-f0-9]{12,64}$/;

// Docker's reference grammar (distribution/reference), simplified to its shape.
const DOMAIN = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?|\[[0-9a-fA-F:]+\](?::[0-9]{1,5})?)`;
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const NAME = `(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*`;
const TAG = String.raw`[\w][\w.-]{0,127}`;
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const IMAGE_REFERENCE = new RegExp(`^${NAME}(?::${TAG})?(?:@${DIGEST})?$`);
const IMAGE_ID = /^(?:sha256:)?[a-f0-9]{12,64}$/;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/;
const NETWORK = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const USER = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,31}(?::[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,31})?$/;
const PROTOCOLS = new Set(["tcp", "udp", "sctp"]);

/** 6 MiB: the smallest memory limit Docker accepts. */
export const MIN_MEMORY_BYTES = 6n * 1024n * 1024n;

function invalid(message: string): never {
  throw new CommandError("invalid_argument", message);
}

/** A container id (12+ hex digits) or name; returns it without a leading slash. */
export function checkContainerRef(value: string, field = "container"): string {
  if (!value) invalid(`${field} is empty: give a container id or name.`);
  if (!CONTAINER_ID.test(value) && !CONTAINER_NAME.test(value)) {
    invalid(
      `${field} "${value.slice(0, 80)}" is neither a container id nor a valid name ` +
        "(letters, digits, '_', '.', '-'; starting with a letter or digit).",
    );
  }
  return value.replace(/^\//, "");
}

/** A container name for a new container. */
export function checkContainerName(value: string): string {
  if (!value) invalid("name is empty: give the new container a name.");
  if (!CONTAINER_NAME.test(value) || value.startsWith("/")) {
    invalid(
      `name "${value.slice(0, 80)}" is not a valid container name: use letters, digits, '_', '.', '-', ` +
        "starting with a letter or digit, at most 255 characters.",
    );
  }
  return value;
}

/** An image reference (name[:tag][@digest]) or an image id. */
export function checkImageRef(value: string, field = "image"): string {
  if (!value) invalid(`${field} is empty: give an image reference such as "odoo:17.0".`);
  if (value.length > 512 || !(IMAGE_REFERENCE.test(value) || IMAGE_ID.test(value))) {
    invalid(
      `${field} "${value.slice(0, 80)}" is not a valid image reference: use [registry/]name[:tag][@sha256:digest] ` +
        'with a lower-case name, e.g. "odoo:17.0" or "registry.example.com/team/odoo:17".',
    );
  }
  return value;
}

/** A reference to pull: never an id, and ":latest" is added when it names no tag or digest. */
export function pullReference(value: string): string {
  checkImageRef(value);
  if (IMAGE_ID.test(value) && !value.includes(":")) return `${value}:latest`;
  if (value.includes("@")) return value;
  const lastSlash = value.lastIndexOf("/");
  return value.slice(lastSlash + 1).includes(":") ? value : `${value}:latest`;
}

/** Environment variables as Docker's KEY=VALUE list. */
export function checkEnv(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) {
      invalid(
        `environment variable name "${name.slice(0, 80)}" is invalid: use letters, digits and '_', not starting with a digit.`,
      );
    }
    if (value.includes("\0")) invalid(`environment variable ${name} contains a NUL byte.`);
    return `${name}=${value}`;
  });
}

/** Labels as given; keys are checked. */
export function checkLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  for (const key of Object.keys(labels)) {
    if (!LABEL_KEY.test(key)) {
      invalid(`label key "${key.slice(0, 80)}" is invalid: use letters, digits, '.', '_', '/', '-'.`);
    }
  }
  return { ...labels };
}

/** "key" or "key=value" label selectors, checked. */
export function checkLabelSelectors(selectors: readonly string[]): string[] {
  for (const selector of selectors) {
    const key = selector.split("=", 1)[0] ?? "";
    if (!LABEL_KEY.test(key)) {
      invalid(`label selector "${selector.slice(0, 80)}" is invalid: write "key" or "key=value".`);
    }
  }
  return [...selectors];
}

export interface PortInput {
  readonly containerPort: number;
  readonly protocol: string;
  readonly hostIp: string;
  readonly hostPort: number;
}

/** Published ports as Docker's ExposedPorts and PortBindings. */
export function checkPorts(ports: readonly PortInput[]): {
  exposed: Record<string, Record<string, never>>;
  bindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
} {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const port of ports) {
    const protocol = port.protocol || "tcp";
    if (port.containerPort < 1 || port.containerPort > 65535) {
      invalid(`container_port ${port.containerPort} is out of range: use 1-65535.`);
    }
    if (port.hostPort > 65535)
      invalid(`host_port ${port.hostPort} is out of range: use 0-65535 (0 picks a free port).`);
    if (!PROTOCOLS.has(protocol)) invalid(`protocol "${protocol.slice(0, 20)}" is not tcp, udp or sctp.`);
    if (port.hostIp && !isIpAddress(port.hostIp)) {
      invalid(
        `host_ip "${port.hostIp.slice(0, 60)}" is not an IP address: leave it empty for all addresses.`,
      );
    }
    const key = `${port.containerPort}/${protocol}`;
    exposed[key] = {};
    const list = bindings[key] ?? [];
    list.push({ HostIp: port.hostIp, HostPort: port.hostPort ? String(port.hostPort) : "" });
    bindings[key] = list;
  }
  return { exposed, bindings };
}

export interface MountInput {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

/** Mounts as Docker's Mounts: absolute sources are binds, anything else a named volume. */
export function checkMounts(
  mounts: readonly MountInput[],
): Array<{ Type: "bind" | "volume"; Source: string; Target: string; ReadOnly: boolean }> {
  return mounts.map((mount) => {
    if (!mount.target.startsWith("/") || mount.target.includes("\0")) {
      invalid(`mount target "${mount.target.slice(0, 80)}" must be an absolute path inside the container.`);
    }
    const bind = mount.source.startsWith("/");
    if (!bind && !VOLUME_NAME.test(mount.source)) {
      invalid(
        `mount source "${mount.source.slice(0, 80)}" is neither an absolute host path nor a volume name.`,
      );
    }
    if (bind && (mount.source.includes("\0") || mount.source.split("/").includes(".."))) {
      invalid(`mount source "${mount.source.slice(0, 80)}" must be a plain absolute path (no "..").`);
    }
    return {
      Type: bind ? "bind" : "volume",
      Source: mount.source,
      Target: mount.target,
      ReadOnly: mount.readOnly,
    };
  });
}

export function checkNetwork(value: string): string | undefined {
  if (!value) return undefined;
  if (!NETWORK.test(value)) invalid(`network "${value.slice(0, 80)}" is not a valid network name.`);
  return value;
}

export function checkUser(value: string): string | undefined {
  if (!value) return undefined;
  if (!USER.test(value))
    invalid(`user "${value.slice(0, 80)}" is invalid: write a name or uid, optionally ":group".`);
  return value;
}

export function checkWorkingDir(value: string): string | undefined {
  if (!value) return undefined;
  if (!value.startsWith("/") || value.includes("\0")) {
    invalid(`working_dir "${value.slice(0, 80)}" must be an absolute path.`);
  }
  return value;
}

export function checkMemoryLimit(bytes: bigint): number | undefined {
  if (bytes === 0n) return undefined;
  if (bytes < MIN_MEMORY_BYTES)
    invalid(`memory_limit_bytes ${bytes} is below Docker's minimum of 6 MiB (6291456).`);
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) invalid(`memory_limit_bytes ${bytes} is too large.`);
  return Number(bytes);
}

export function checkCpuLimit(millicores: number): number | undefined {
  if (millicores === 0) return undefined;
  if (millicores < 10 || millicores > 1_024_000) {
    invalid(`cpu_limit_millicores ${millicores} is out of range: use 10 (0.01 core) to 1024000.`);
  }
  return millicores * 1_000_000;
}

/** A stop grace period: 0 means Docker's default. */
export function checkStopTimeout(seconds: number): number | undefined {
  if (seconds > 3600) invalid(`timeout_seconds ${seconds} is too long: use at most 3600.`);
  return seconds === 0 ? undefined : seconds;
}

/** A command line: at least one element, no NUL bytes. */
export function checkCommand(
  argv: readonly string[],
  field: string,
  required: boolean,
): string[] | undefined {
  if (argv.length === 0) {
    if (required) invalid(`${field} is empty: give the program to run and its arguments.`);
    return undefined;
  }
  if (argv.some((arg) => arg.includes("\0"))) invalid(`${field} contains a NUL byte.`);
  if (!argv[0]) invalid(`${field} starts with an empty program name.`);
  return [...argv];
}

/** "linux/amd64" style platform. */
export function checkPlatform(value: string): string | undefined {
  if (!value) return undefined;
  if (!/^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/.test(value)) {
    invalid(`platform "${value.slice(0, 40)}" is invalid: write os/arch, e.g. "linux/amd64".`);
  }
  return value;
}

function isIpAddress(value: string): boolean {
  if (/^(?:\d{1,3}\.){3}\d{1,3}$/.test(value)) return value.split(".").every((part) => Number(part) <= 255);
  return /^[0-9a-fA-F:]+$/.test(value) && value.includes(":");
}
