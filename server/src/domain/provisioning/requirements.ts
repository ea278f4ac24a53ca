import type { ProvisioningFacts, RequirementVerdict } from "../../platform/db/schema/provisioning.js";
import type { FailureReason } from "./provisioning-failure.js";

const GIB = 1024 ** 3;

/** What a host must offer; the defaults are the product's requirements (PRODUCT.md). */
export interface Requirements {
  /** Oldest Docker Engine accepted, as [major, minor]. */
  readonly minDocker: readonly [number, number];
  readonly memoryPerInstanceBytes: number;
  readonly diskPerInstanceBytes: number;
  /** Architectures the agent executable is built for (`uname -m`). */
  readonly architectures: readonly string[];
}

export const productRequirements: Requirements = {
  minDocker: [24, 0],
  memoryPerInstanceBytes: 1 * GIB,
  diskPerInstanceBytes: 10 * GIB,
  architectures: ["x86_64"],
};

/** Supported systems and their oldest version (PRODUCT.md); other systems need systemd. */
const supportedSystems: ReadonlyArray<{ ids: readonly string[]; name: string; min: number }> = [
  { ids: ["ubuntu"], name: "Ubuntu", min: 20.04 },
  { ids: ["debian"], name: "Debian", min: 11 },
  { ids: ["centos", "rhel", "rocky", "almalinux"], name: "CentOS/RHEL", min: 8 },
];

/** [major, minor] of a Docker version string ("24.0.7", "20.10.24+dfsg1", "27.3.1-1~deb12"); undefined when unreadable. */
export function parseDockerVersion(version: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)/.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function atLeast(version: readonly [number, number], min: readonly [number, number]): boolean {
  return version[0] > min[0] || (version[0] === min[0] && version[1] >= min[1]);
}

const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;

/**
 * One verdict per requirement, each with a sentence the user can act on. Pure: the same facts
 * always give the same verdicts. `plannedInstances` scales the memory and disk needed.
 */
export function judgeRequirements(
  facts: ProvisioningFacts,
  options: { readonly plannedInstances: number; readonly requirements?: Requirements },
): RequirementVerdict[] {
  const requirements = options.requirements ?? productRequirements;
  const planned = Math.max(1, options.plannedInstances);
  return [
    judgeSystem(facts),
    judgeArchitecture(facts, requirements),
    judgeInit(facts),
    judgePrivileges(facts),
    judgeDocker(facts, requirements),
    judgeMemory(facts, requirements, planned),
    judgeDisk(facts, requirements, planned),
    {
      id: "cpu",
      title: "CPU",
      verdict: facts.cpuCores >= 2 ? "pass" : "warn",
      message:
        facts.cpuCores >= 2
          ? `${facts.cpuCores} CPUs.`
          : "1 CPU: Odoo and its database share it; expect slow responses under load.",
    },
  ];
}

function judgeSystem(facts: ProvisioningFacts): RequirementVerdict {
  const title = "Operating system";
  const label = facts.osName || `${facts.osId} ${facts.osVersion}`;
  const candidates = [facts.osId, ...facts.osIdLike.split(/\s+/)];
  const known = supportedSystems.find((system) => system.ids.includes(facts.osId));
  if (known) {
    const version = Number.parseFloat(facts.osVersion);
    if (Number.isFinite(version) && version >= known.min) {
      return { id: "os", title, verdict: "pass", message: `${label} is supported.` };
    }
    return {
      id: "os",
      title,
      verdict: "fail",
      reason: "unsupported_os",
      message: `${label} is too old: oCore supports ${known.name} ${known.min} or newer. Upgrade the system, or add a newer host.`,
    };
  }
  if (facts.systemd) {
    const family = supportedSystems.find((system) => candidates.some((id) => system.ids.includes(id)));
    return {
      id: "os",
      title,
      verdict: "warn",
      message: `${label || "This system"} is not on the tested list (Ubuntu 20.04+, Debian 11+, CentOS 8+)${family ? `, but is related to ${family.name}` : ""}; it runs systemd, so the agent should work.`,
    };
  }
  return {
    id: "os",
    title,
    verdict: "fail",
    reason: "unsupported_os",
    message: `${label || "This system"} is neither a supported distribution (Ubuntu 20.04+, Debian 11+, CentOS 8+) nor a Linux with systemd. Use a supported system.`,
  };
}

function judgeArchitecture(facts: ProvisioningFacts, requirements: Requirements): RequirementVerdict {
  if (requirements.architectures.includes(facts.architecture)) {
    return { id: "architecture", title: "Architecture", verdict: "pass", message: `${facts.architecture}.` };
  }
  return {
    id: "architecture",
    title: "Architecture",
    verdict: "fail",
    reason: "unsupported_os",
    message: `${facts.architecture} hosts are not supported yet: the agent is built for ${requirements.architectures.join(", ")}. Use an ${requirements.architectures[0]} host.`,
  };
}

function judgeInit(facts: ProvisioningFacts): RequirementVerdict {
  if (facts.systemd) {
    return {
      id: "init",
      title: "Service manager",
      verdict: "pass",
      message: "systemd runs the host: the agent is installed as a systemd service (Restart=always).",
    };
  }
  return {
    id: "init",
    title: "Service manager",
    verdict: "warn",
    message: `systemd is not running (PID 1 is ${facts.initProcess || "unknown"}, e.g. a container or minimal image): the agent runs under oCore's supervisor script instead, which restarts it when it exits but does not start it after a reboot. Start <prefix>/libexec/supervise-agent.sh from the host's own init to cover reboots.`,
  };
}

function judgePrivileges(facts: ProvisioningFacts): RequirementVerdict {
  if (facts.isRoot)
    return { id: "privileges", title: "Privileges", verdict: "pass", message: "Logged in as root." };
  if (facts.passwordlessSudo) {
    return { id: "privileges", title: "Privileges", verdict: "pass", message: "Passwordless sudo works." };
  }
  return {
    id: "privileges",
    title: "Privileges",
    verdict: "fail",
    reason: "no_sudo",
    message:
      "The SSH user is not root and `sudo -n true` fails: installing the agent needs root. Log in as root, or allow the user passwordless sudo (e.g. `user ALL=(ALL) NOPASSWD:ALL` in /etc/sudoers.d/), then retry.",
  };
}

/** Docker's own install guide for the host's system: its repository has current Engine releases. */
export function dockerInstallGuide(facts: Pick<ProvisioningFacts, "osId" | "osIdLike">): {
  readonly url: string;
  readonly source: string;
} {
  const ids = [facts.osId, ...facts.osIdLike.split(/\s+/)];
  const guide = (os: string, source: string) => ({
    url: `https://docs.docker.com/engine/install/${os}/`,
    source,
  });
  if (facts.osId === "debian") return guide("debian", "Docker's own apt repository");
  if (facts.osId === "ubuntu" || ids.includes("ubuntu"))
    return guide("ubuntu", "Docker's own apt repository");
  if (ids.includes("debian")) return guide("debian", "Docker's own apt repository");
  if (facts.osId === "rhel") return guide("rhel", "Docker's own yum repository");
  if (["centos", "rocky", "almalinux"].includes(facts.osId) || ids.includes("rhel")) {
    return guide("centos", "Docker's own yum repository");
  }
  return { url: "https://docs.docker.com/engine/install/", source: "Docker's own packages" };
}

/** How to go ahead without a requirement (ServerService.RetryProvisioning, or the console). */
/** The last sentence of a failed verdict over SSH: how to accept the requirement and go on. */
export const acceptInstead = (id: string, title: string) =>
  `Or accept the requirement and go ahead at your own risk: retry with "${title}" accepted (console: tick it under "Go ahead without these requirements"; API: RetryProvisioning with accepted_requirements ["${id}"]).`;

function judgeDocker(facts: ProvisioningFacts, requirements: Requirements): RequirementVerdict {
  const min = requirements.minDocker.join(".");
  const title = "Docker Engine";
  const guide = dockerInstallGuide(facts);
  const system = facts.osName || facts.osId || "this system";
  if (!facts.dockerVersion) {
    return {
      id: "docker",
      title,
      verdict: "fail",
      reason: "docker_missing",
      message: `Docker is not installed (no docker command on the SSH user's PATH). Install Docker Engine ${min} or newer from ${guide.source} (${guide.url}), then retry. ${acceptInstead("docker", title)}`,
    };
  }
  const version = parseDockerVersion(facts.dockerVersion);
  if (!version || !atLeast(version, requirements.minDocker)) {
    return {
      id: "docker",
      title,
      verdict: "fail",
      reason: "docker_too_old",
      message: `Docker ${facts.dockerVersion} is too old: oCore needs Docker Engine ${min} or newer, which ${system}'s own packages do not ship. Install it from ${guide.source} (${guide.url}; it replaces the system's docker.io package), then retry. ${acceptInstead("docker", title)}`,
    };
  }
  if (!facts.dockerDaemonAnswers) {
    return {
      id: "docker",
      title,
      verdict: "warn",
      message: `Docker ${facts.dockerVersion} is installed but its daemon does not answer: start it (systemctl enable --now docker). Instances cannot run until it does.`,
    };
  }
  return {
    id: "docker",
    title,
    verdict: "pass",
    message: `Docker ${facts.dockerVersion}, the daemon answers.`,
  };
}

function judgeMemory(
  facts: ProvisioningFacts,
  requirements: Requirements,
  planned: number,
): RequirementVerdict {
  const needed = planned * requirements.memoryPerInstanceBytes;
  const fits = Math.floor(facts.memoryTotalBytes / requirements.memoryPerInstanceBytes);
  if (facts.memoryTotalBytes >= needed) {
    return {
      id: "memory",
      title: "Memory",
      verdict: "pass",
      message: `${gib(facts.memoryTotalBytes)} for ${planned} planned instance(s) (needs ${gib(needed)}).`,
    };
  }
  return {
    id: "memory",
    title: "Memory",
    verdict: "warn",
    message: `${gib(facts.memoryTotalBytes)} is less than the ${gib(needed)} that ${planned} instance(s) need (${gib(requirements.memoryPerInstanceBytes)} each): plan at most ${fits} instance(s) here, or add memory.`,
  };
}

function judgeDisk(
  facts: ProvisioningFacts,
  requirements: Requirements,
  planned: number,
): RequirementVerdict {
  const needed = planned * requirements.diskPerInstanceBytes;
  const fits = Math.floor(facts.diskAvailableBytes / requirements.diskPerInstanceBytes);
  if (facts.diskAvailableBytes >= needed) {
    return {
      id: "disk",
      title: "Disk",
      verdict: "pass",
      message: `${gib(facts.diskAvailableBytes)} free for ${planned} planned instance(s) (needs ${gib(needed)}).`,
    };
  }
  return {
    id: "disk",
    title: "Disk",
    verdict: "warn",
    message: `${gib(facts.diskAvailableBytes)} free is less than the ${gib(needed)} that ${planned} instance(s) need (${gib(requirements.diskPerInstanceBytes)} each): plan at most ${fits} instance(s) here, or free or add disk space.`,
  };
}

const verdictReasons: readonly FailureReason[] = [
  "unsupported_os",
  "no_sudo",
  "docker_missing",
  "docker_too_old",
];

/** The server's failure reason for a failed verdict. */
export function failureReasonOf(verdict: RequirementVerdict): FailureReason {
  return verdictReasons.find((reason) => reason === verdict.reason) ?? "unsupported_os";
}

/** The first failed requirement nobody accepted, which stops provisioning. */
export function blockingVerdict(verdicts: readonly RequirementVerdict[]): RequirementVerdict | undefined {
  return verdicts.find((verdict) => verdict.verdict === "fail" && !verdict.accepted);
}

/** Marks failed requirements an admin accepted (they stay `fail`, visibly accepted). */
export function applyAccepted(
  verdicts: RequirementVerdict[],
  accepted: readonly string[],
): RequirementVerdict[] {
  return verdicts.map((verdict) =>
    verdict.verdict === "fail" && accepted.includes(verdict.id) ? { ...verdict, accepted: true } : verdict,
  );
}
