import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.js";

const run = promisify(execFile);
const CACHE_DIR = "/var/cache/ocore-test";
const CONFIGURE = new URL("./systemd-host/configure-rootfs.sh", import.meta.url).pathname;
export const SYSTEMD_HOST_USER = "ocore";
const PACKAGES = "systemd,systemd-sysv,openssh-server,sudo,dbus,curl,ca-certificates,iptables";

export interface SystemdHost {
  readonly container: string;
  readonly sshPort: number;
  readonly user: string;
  readonly password: string;
  /** Runs a command inside the container (as root). */
  exec(argv: readonly string[]): Promise<{ stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** The Debian mirror apt uses on this machine (deb822 `URIs:` or a classic `deb` line). */
export function debianMirror(): string {
  const files = ["/etc/apt/sources.list"];
  if (existsSync("/etc/apt/sources.list.d")) {
    files.push(
      ...readdirSync("/etc/apt/sources.list.d").map((name) => path.join("/etc/apt/sources.list.d", name)),
    );
  }
  for (const file of files.filter(existsSync)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const url =
        /^URIs:\s*(\S+)/.exec(line)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/.exec(line)?.[1];
      if (url && !url.includes("security")) return url;
    }
  }
  return "http://deb.debian.org/debian";
}

/**
 * A Debian bookworm image that boots systemd, built once with debootstrap (minbase + systemd,
 * sshd, sudo, dbus), configured by configure-rootfs.sh, and imported into Docker. The root file
 * system tarball is cached under /var/cache/ocore-test, so reruns only import (or reuse) it.
 */
export async function ensureSystemdHostImage(): Promise<string> {
  const recipe = createHash("sha256")
    .update(readFileSync(CONFIGURE))
    .update(PACKAGES)
    .update(SYSTEMD_HOST_USER)
    .digest("hex")
    .slice(0, 12);
  const image = `ocore-test-systemd-host:${recipe}`;
  const inspected = await run("docker", ["image", "inspect", image]).then(
    () => true,
    () => false,
  );
  if (inspected) return image;
  const tarball = await configuredRootfs(await debootstrapRootfs(), recipe);
  await run("docker", ["import", tarball, image], { timeout: 300_000 });
  return image;
}

/** debootstrap's output (minbase + PACKAGES), cached: the slow part, independent of the configuration. */
async function debootstrapRootfs(): Promise<string> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const key = createHash("sha256").update(PACKAGES).update(debianMirror()).digest("hex").slice(0, 12);
  const tarball = path.join(CACHE_DIR, `bookworm-minbase-${key}.tar`);
  if (existsSync(tarball)) return tarball;
  const root = mkdtempSync(path.join(os.tmpdir(), "ocore-systemd-rootfs-"));
  try {
    await run(
      "debootstrap",
      ["--variant=minbase", `--include=${PACKAGES}`, "bookworm", root, debianMirror()],
      {
        maxBuffer: 64 * 1024 * 1024,
        timeout: 900_000,
      },
    );
    await run("tar", ["-C", root, "-cf", `${tarball}.partial`, "."], { timeout: 300_000 });
    await run("mv", [`${tarball}.partial`, tarball]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return tarball;
}

/** The base with configure-rootfs.sh applied in a chroot, cached per recipe. */
async function configuredRootfs(base: string, recipe: string): Promise<string> {
  const tarball = path.join(CACHE_DIR, `bookworm-systemd-${recipe}.tar`);
  if (existsSync(tarball)) return tarball;
  const root = mkdtempSync(path.join(os.tmpdir(), "ocore-systemd-rootfs-"));
  try {
    await run("tar", ["-C", root, "-xf", base], { timeout: 300_000 });
    await run("cp", [CONFIGURE, path.join(root, "configure-rootfs.sh")]);
    await run("chroot", [root, "/bin/sh", "/configure-rootfs.sh", SYSTEMD_HOST_USER]);
    rmSync(path.join(root, "configure-rootfs.sh"));
    await run("tar", ["-C", root, "-cf", `${tarball}.partial`, "."], { timeout: 300_000 });
    await run("mv", [`${tarball}.partial`, tarball]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return tarball;
}

/**
 * Boots the image as a container whose PID 1 is systemd (the flags this machine allows:
 * SYS_ADMIN, no seccomp filter, the host's cgroup tree, tmpfs /run), with its sshd published
 * on a loopback port, the host's Docker socket and CLI mounted, and a fresh password.
 */
export async function startSystemdHost(
  image: string,
  options: { readonly capAdd?: readonly string[] } = {},
): Promise<SystemdHost> {
  const sshPort = await freePort();
  const container = `ocore-systemd-host-${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("base64url");
  await run("docker", [
    "run",
    "-d",
    "--name",
    container,
    "--cap-add",
    "SYS_ADMIN",
    ...(options.capAdd ?? []).flatMap((cap) => ["--cap-add", cap]),
    "--security-opt",
    "seccomp=unconfined",
    "-v",
    "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
    "-e",
    "container=docker",
    "-v",
    "/var/run/docker.sock:/var/run/docker.sock",
    "-v",
    "/usr/bin/docker:/usr/bin/docker:ro",
    "-p",
    `127.0.0.1:${sshPort}:22`,
    image,
    "/lib/systemd/systemd",
  ]);
  const exec = async (argv: readonly string[], input?: string) => {
    const child = run("docker", ["exec", ...(input ? ["-i"] : []), container, ...argv], { timeout: 60_000 });
    if (input) {
      child.child.stdin?.end(input);
    }
    return child;
  };
  const stop = async () => {
    await run("docker", ["rm", "-f", container]).catch(() => undefined);
  };
  try {
    await waitForSshBanner(sshPort);
    await exec(["chpasswd"], `${SYSTEMD_HOST_USER}:${password}\n`);
  } catch (error) {
    const logs = await run("docker", ["logs", "--tail", "50", container]).catch(() => ({
      stdout: "",
      stderr: "",
    }));
    await stop();
    throw new Error(
      `the systemd host did not come up: ${(error as Error).message}\n${logs.stdout}${logs.stderr}`,
    );
  }
  return { container, sshPort, user: SYSTEMD_HOST_USER, password, exec: (argv) => exec(argv), stop };
}

async function waitForSshBanner(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const banner = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      let data = "";
      const done = () => {
        socket.destroy();
        resolve(data);
      };
      socket.setTimeout(2_000, done);
      socket.on("data", (chunk) => {
        data += chunk.toString();
        if (data.includes("\n")) done();
      });
      socket.on("error", done);
      socket.on("close", done);
    });
    if (banner.startsWith("SSH-")) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no SSH banner on 127.0.0.1:${port} within ${timeoutMs / 1000} s`);
}
