import { describe, expect, it } from "vitest";
import type { ProvisioningFacts } from "../../platform/db/schema/provisioning.js";
import { parseFacts } from "./host-facts.js";
import { applyAccepted, blockingVerdict, judgeRequirements, parseDockerVersion } from "./requirements.js";

const GIB = 1024 ** 3;
const good: ProvisioningFacts = {
  hostname: "web-1",
  osId: "debian",
  osIdLike: "",
  osVersion: "12",
  osName: "Debian GNU/Linux 12 (bookworm)",
  kernel: "6.1.0",
  architecture: "x86_64",
  cpuCores: 4,
  memoryTotalBytes: 8 * GIB,
  diskAvailableBytes: 100 * GIB,
  diskTotalBytes: 200 * GIB,
  dockerVersion: "27.3.1",
  dockerDaemonAnswers: true,
  systemd: true,
  initProcess: "systemd",
  isRoot: true,
  passwordlessSudo: false,
};
const judge = (facts: Partial<ProvisioningFacts>, plannedInstances = 1) =>
  judgeRequirements({ ...good, ...facts }, { plannedInstances });
const verdictOf = (facts: Partial<ProvisioningFacts>, id: string, plannedInstances = 1) =>
  judge(facts, plannedInstances).find((verdict) => verdict.id === id);

describe("requirement verdicts", () => {
  it("passes a supported host on every requirement", () => {
    const verdicts = judge({});
    expect(verdicts.map((v) => [v.id, v.verdict])).toEqual([
      ["os", "pass"],
      ["architecture", "pass"],
      ["init", "pass"],
      ["privileges", "pass"],
      ["docker", "pass"],
      ["memory", "pass"],
      ["disk", "pass"],
      ["cpu", "pass"],
    ]);
    expect(blockingVerdict(verdicts)).toBeUndefined();
  });

  it("fails old or unknown systems with unsupported_os and names the minimum", () => {
    expect(verdictOf({ osId: "ubuntu", osVersion: "18.04", osName: "Ubuntu 18.04" }, "os")).toMatchObject({
      verdict: "fail",
      reason: "unsupported_os",
      message: expect.stringContaining("Ubuntu 20.04 or newer"),
    });
    expect(verdictOf({ osId: "ubuntu", osVersion: "20.04" }, "os")?.verdict).toBe("pass");
    expect(verdictOf({ osId: "centos", osVersion: "7" }, "os")?.verdict).toBe("fail");
    expect(verdictOf({ osId: "rocky", osVersion: "9.3" }, "os")?.verdict).toBe("pass");
    expect(verdictOf({ osId: "arch", osVersion: "", osName: "Arch Linux" }, "os")?.verdict).toBe("warn");
    expect(
      verdictOf({ osId: "alpine", osName: "Alpine", systemd: false, initProcess: "init" }, "os"),
    ).toMatchObject({
      verdict: "fail",
      reason: "unsupported_os",
    });
    expect(verdictOf({ architecture: "aarch64" }, "architecture")?.reason).toBe("unsupported_os");
  });

  it("says which supervision mode a host without systemd gets", () => {
    expect(verdictOf({ systemd: false, initProcess: "tini" }, "init")).toMatchObject({
      verdict: "warn",
      message: expect.stringMatching(/PID 1 is tini.*supervisor script/),
    });
    expect(verdictOf({}, "init")?.message).toMatch(/systemd service/);
  });

  it("requires root or passwordless sudo", () => {
    expect(verdictOf({ isRoot: false, passwordlessSudo: true }, "privileges")?.verdict).toBe("pass");
    expect(verdictOf({ isRoot: false, passwordlessSudo: false }, "privileges")).toMatchObject({
      verdict: "fail",
      reason: "no_sudo",
      message: expect.stringContaining("NOPASSWD"),
    });
  });

  it("tells a Debian 12 host with its own Docker 20.10 where 24+ comes from, and how to go ahead", () => {
    expect(verdictOf({ dockerVersion: "20.10.24+dfsg1" }, "docker")?.message).toBe(
      "Docker 20.10.24+dfsg1 is too old: oCore needs Docker Engine 24.0 or newer, which Debian GNU/Linux 12 (bookworm)'s own packages do not ship. " +
        "Install it from Docker's own apt repository (https://docs.docker.com/engine/install/debian/; it replaces the system's docker.io package), then retry. " +
        'Or accept the requirement and go ahead at your own risk: retry with "Docker Engine" accepted (console: tick it under "Go ahead without these requirements"; API: RetryProvisioning with accepted_requirements ["docker"]).',
    );
    const ubuntu = { osId: "ubuntu", osVersion: "22.04", osName: "Ubuntu 22.04.4 LTS" };
    expect(verdictOf({ ...ubuntu, dockerVersion: "20.10.12" }, "docker")?.message).toContain(
      "Docker's own apt repository (https://docs.docker.com/engine/install/ubuntu/",
    );
    expect(verdictOf({ ...ubuntu, dockerVersion: "" }, "docker")?.message).toMatch(
      /Install Docker Engine 24\.0 or newer from Docker's own apt repository \(https:\/\/docs\.docker\.com\/engine\/install\/ubuntu\/\), then retry\. Or accept/,
    );
    expect(
      verdictOf({ osId: "linuxmint", osIdLike: "ubuntu debian", dockerVersion: "20.10.7" }, "docker")
        ?.message,
    ).toContain("https://docs.docker.com/engine/install/ubuntu/");
    expect(
      verdictOf({ osId: "rocky", osVersion: "9.3", dockerVersion: "20.10.7" }, "docker")?.message,
    ).toContain("Docker's own yum repository (https://docs.docker.com/engine/install/centos/");
  });

  it("requires Docker 24.0 or newer, and warns when its daemon does not answer", () => {
    expect(verdictOf({ dockerVersion: "" }, "docker")).toMatchObject({
      verdict: "fail",
      reason: "docker_missing",
    });
    expect(verdictOf({ dockerVersion: "20.10.24+dfsg1" }, "docker")).toMatchObject({
      verdict: "fail",
      reason: "docker_too_old",
      message: expect.stringContaining(
        "Docker 20.10.24+dfsg1 is too old: oCore needs Docker Engine 24.0 or newer",
      ),
    });
    expect(verdictOf({ dockerVersion: "24.0.0" }, "docker")?.verdict).toBe("pass");
    expect(verdictOf({ dockerVersion: "24.0.7", dockerDaemonAnswers: false }, "docker")?.verdict).toBe(
      "warn",
    );
    expect(parseDockerVersion("27.3.1-1~debian.12~bookworm")).toEqual([27, 3]);
    expect(parseDockerVersion("garbage")).toBeUndefined();
  });

  it("scales memory and disk with the planned instances and says how many fit", () => {
    expect(verdictOf({ memoryTotalBytes: 3 * GIB }, "memory", 2)?.verdict).toBe("pass");
    expect(verdictOf({ memoryTotalBytes: 3 * GIB }, "memory", 4)).toMatchObject({
      verdict: "warn",
      message: expect.stringContaining("plan at most 3 instance(s)"),
    });
    expect(verdictOf({ diskAvailableBytes: 25 * GIB }, "disk", 3)?.message).toContain(
      "plan at most 2 instance(s)",
    );
  });

  it("lets an admin accept a failure, visibly", () => {
    const verdicts = applyAccepted(judge({ dockerVersion: "20.10.24" }), ["docker"]);
    expect(verdicts.find((v) => v.id === "docker")).toMatchObject({ verdict: "fail", accepted: true });
    expect(blockingVerdict(verdicts)).toBeUndefined();
    expect(blockingVerdict(judge({ dockerVersion: "20.10.24" }))?.reason).toBe("docker_too_old");
  });
});

describe("parseFacts", () => {
  it("reads facts.sh output and names a missing key", () => {
    const lines = [
      "hostname=h",
      "os_id=Debian",
      "os_id_like=",
      "os_version=12",
      "os_name=Debian 12",
      "kernel=6.1",
      "architecture=x86_64",
      "cpu_cores=2",
      "memory_total_bytes=1024",
      "disk_path=/opt",
      "disk_total_bytes=10",
      "disk_available_bytes=5",
      "is_root=false",
      "passwordless_sudo=true",
      "init_process=systemd",
      "systemd=true",
      "docker_version=",
      "docker_daemon_answers=false",
      "future_key=ignored",
    ];
    expect(parseFacts(lines.join("\n"))).toMatchObject({
      osId: "debian",
      cpuCores: 2,
      passwordlessSudo: true,
      dockerVersion: "",
    });
    expect(() => parseFacts(lines.filter((l) => !l.startsWith("kernel")).join("\n"))).toThrow(
      /did not report kernel/,
    );
  });
});
