import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaptureLogger } from "../test/capture-logger.js";
import { connectTestDocker, ensureTestImage, TEST_DOCKER_SOCKET } from "../test/docker-test-image.js";
import { checkContainerStart, checkDockerDaemon, START_CHECK_PREFIX } from "./docker-checks.js";
import { createHostChecks } from "./host-checks.js";
import { checkInodes } from "./inode-check.js";
import { checkSshd, parseListeningSockets } from "./sshd-check.js";

const TCP_HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
const tcpLine = (port: number, state: string, inode: number) =>
  `   0: 00000000:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "h16-checks-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A /proc fixture: processes (comm, socket inodes they hold) and the TCP tables. */
async function procFixture(
  name: string,
  processes: Array<{ pid: number; comm: string; sockets?: number[] }>,
  tcp: string,
): Promise<string> {
  const root = path.join(scratch, name);
  await mkdir(path.join(root, "net"), { recursive: true });
  await writeFile(path.join(root, "net", "tcp"), TCP_HEADER + tcp);
  await writeFile(path.join(root, "net", "tcp6"), TCP_HEADER);
  for (const process of processes) {
    await mkdir(path.join(root, String(process.pid), "fd"), { recursive: true });
    await writeFile(path.join(root, String(process.pid), "comm"), `${process.comm}\n`);
    for (const [index, inode] of (process.sockets ?? []).entries()) {
      await symlink(`socket:[${inode}]`, path.join(root, String(process.pid), "fd", String(index + 3)));
    }
  }
  return root;
}

describe("sshd check", () => {
  it("parses the LISTEN sockets of /proc/net/tcp and skips the others", () => {
    const text = TCP_HEADER + tcpLine(22, "0A", 111) + tcpLine(5432, "01", 222) + tcpLine(2222, "0A", 333);
    expect(parseListeningSockets(text)).toEqual([
      { port: 22, inode: "111" },
      { port: 2222, inode: "333" },
    ]);
  });

  it("is ok when an sshd process holds a listening socket, naming the port", async () => {
    const root = await procFixture(
      "ok",
      [
        { pid: 1, comm: "systemd" },
        { pid: 812, comm: "sshd", sockets: [4242] },
        { pid: 900, comm: "sshd-session", sockets: [5151] },
      ],
      tcpLine(2200, "0A", 4242) + tcpLine(22, "0A", 9999),
    );
    const result = await checkSshd(root);
    expect(result).toMatchObject({ key: "sshd", state: "ok", value: 2200 });
    expect(result.message).toContain("listens on port 2200");
  });

  it("is critical when no sshd runs, and when sshd runs but listens nowhere", async () => {
    const none = await procFixture("none", [{ pid: 1, comm: "systemd" }], tcpLine(22, "0A", 1));
    expect(await checkSshd(none)).toMatchObject({ state: "critical", message: "no sshd process is running" });
    const deaf = await procFixture("deaf", [{ pid: 7, comm: "sshd", sockets: [10] }], tcpLine(22, "0A", 11));
    const result = await checkSshd(deaf);
    expect(result.state).toBe("critical");
    expect(result.message).toContain("listens on no TCP port");
  });

  it("on the real /proc gives a state and a sentence", async () => {
    const result = await checkSshd();
    expect(["ok", "warning", "critical"]).toContain(result.state);
    expect(result.message.length).toBeGreaterThan(5);
  });
});

describe("inode check", () => {
  it("reports inodes in use per real mount and skips filesystems without an inode table", async () => {
    const root = path.join(scratch, "mounts");
    await mkdir(path.join(root, "self"), { recursive: true });
    await writeFile(
      path.join(root, "self", "mountinfo"),
      [
        "22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw",
        "23 22 252:2 / /srv rw,relatime shared:2 - btrfs /dev/vdb rw",
        "24 22 0:5 / /dev rw - devtmpfs udev rw",
        "",
      ].join("\n"),
    );
    const stats: Record<string, { files: number; ffree: number }> = {
      "/": { files: 1000, ffree: 50 },
      "/srv": { files: 0, ffree: 0 },
    };
    const results = await checkInodes({
      procRoot: root,
      statfs: async (mount) => stats[mount] ?? { files: 0, ffree: 0 },
    });
    expect(results).toEqual([
      {
        key: "inodes",
        subject: "/",
        state: "ok",
        value: 95,
        message: "950 of 1000 inodes in use on / (95%)",
      },
    ]);
  });
});

describe("Docker checks", () => {
  it("are critical when nothing answers on the socket", async () => {
    const result = await checkDockerDaemon(path.join(scratch, "no-docker.sock"));
    expect(result).toMatchObject({ key: "docker", state: "critical" });
    expect(result.message).toContain("does not answer");
  });

  it("are critical when the socket answers its ping with an error", async () => {
    const socketPath = path.join(scratch, "broken.sock");
    const server = createServer((_, response) => {
      response.writeHead(500, { "content-type": "application/json" });
      response.end('{"message":"daemon is shutting down"}');
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const result = await checkDockerDaemon(socketPath);
      expect(result.state).toBe("critical");
      expect(result.message).toContain("daemon is shutting down");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("with a real daemon: ping and version ok, a container starts and is removed", async () => {
    const docker = await connectTestDocker();
    await ensureTestImage();
    const daemon = await checkDockerDaemon(TEST_DOCKER_SOCKET);
    expect(daemon.state).toBe("ok");
    expect(daemon.message).toMatch(/^Docker \d+\.\d+/);
    const start = await checkContainerStart(TEST_DOCKER_SOCKET);
    expect(start).toMatchObject({ key: "docker_start", state: "ok" });
    const left = await docker.listContainers({ all: true, filters: { name: [START_CHECK_PREFIX] } });
    expect(left).toEqual([]);
  }, 60_000);

  it("the cycle sends Docker, start, sshd and inode results to the attached stream", async () => {
    await connectTestDocker();
    const { logger } = createCaptureLogger();
    const checks = createHostChecks({
      dockerSocket: TEST_DOCKER_SOCKET,
      logger,
      firstStartCheckAfterMs: 0,
      startCheckEveryMs: 3_600_000,
    });
    const sent: Array<{ results?: Array<{ key?: string }> }> = [];
    checks.attach({ write: (message) => sent.push(message as never) > 0 });
    await checks.runOnce();
    await checks.runOnce();
    expect(sent).toHaveLength(2);
    const keys = (sent[1]?.results ?? []).map((result) => result.key);
    expect(keys).toEqual(expect.arrayContaining(["docker", "docker_start", "sshd"]));
    expect(keys.filter((key) => key === "docker_start")).toHaveLength(1);
  }, 60_000);
});
