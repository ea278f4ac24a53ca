import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createCpuCollector } from "./cpu-collector.js";
import { createDiskIoCollector } from "./disk-io-collector.js";
import { createFilesystemCollector, parseMountinfo, selectRealMounts } from "./filesystem-collector.js";
import { createMemoryCollector } from "./memory-collector.js";
import { createNetworkCollector } from "./network-collector.js";
import { countTcpConnections, createTcpConnectionCollector } from "./tcp-connection-collector.js";

async function procFixture(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "ocore-proc-"));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
  return root;
}

const stat = (cpu: number[], cores: number[][]) =>
  [
    `cpu  ${cpu.join(" ")} 0 0`,
    ...cores.map((core, index) => `cpu${index} ${core.join(" ")} 0 0`),
    "btime 1700000000",
    "",
  ].join("\n");

describe("cpu collector", () => {
  it("computes total and per-core usage from /proc/stat deltas and reads the load averages", async () => {
    // user nice system idle iowait irq softirq steal
    const root = await procFixture({
      stat: stat(
        [100, 0, 100, 800, 0, 0, 0, 0],
        [
          [50, 0, 50, 400, 0, 0, 0, 0],
          [50, 0, 50, 400, 0, 0, 0, 0],
        ],
      ),
      loadavg: "0.50 1.25 2.00 3/456 7890\n",
    });
    const collector = createCpuCollector({ procRoot: root });
    await collector.collect();
    // +300 busy, +100 idle, +100 iowait on the total; core 0 fully busy, core 1 idle.
    await writeFile(
      path.join(root, "stat"),
      stat(
        [350, 0, 150, 900, 100, 0, 0, 0],
        [
          [250, 0, 100, 400, 0, 0, 0, 0],
          [50, 0, 50, 500, 100, 0, 0, 0],
        ],
      ),
    );
    const reading = await collector.collect();
    expect(reading.usagePercent).toBeCloseTo(60, 5);
    expect(reading.perCorePercent).toEqual([100, 0]);
    expect(reading).toMatchObject({ load1: 0.5, load5: 1.25, load15: 2, cores: 2 });
  });
});

describe("memory collector", () => {
  it("reports bytes, used as total minus available", async () => {
    const root = await procFixture({
      meminfo:
        "MemTotal:        8000000 kB\nMemFree:         1000000 kB\nMemAvailable:    6000000 kB\n" +
        "Active:          1500000 kB\nSwapTotal:       2000000 kB\nSwapFree:        1500000 kB\n",
    });
    expect(await createMemoryCollector({ procRoot: root }).collect()).toEqual({
      totalBytes: 8_192_000_000n,
      usedBytes: 2_048_000_000n,
      availableBytes: 6_144_000_000n,
      activeBytes: 1_536_000_000n,
      swapTotalBytes: 2_048_000_000n,
      swapUsedBytes: 512_000_000n,
    });
  });
});

const mountinfo = [
  "22 27 0:21 / /proc rw,relatime - proc proc rw",
  "24 27 0:6 / /dev rw - devtmpfs devtmpfs rw",
  "27 1 254:0 / / rw,relatime - ext4 /dev/vda1 rw",
  "28 27 254:16 / /srv/my\\040data rw - xfs /dev/vdb1 rw",
  "29 27 254:16 /docker /var/lib/docker rw - xfs /dev/vdb1 rw",
  "30 27 0:27 / /run rw - tmpfs tmpfs rw",
  "31 27 0:45 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw",
  "32 23 0:28 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw",
  "33 27 7:0 / /snap/core/1 ro - squashfs /dev/loop0 ro",
  "",
].join("\n");

describe("filesystem collector", () => {
  it("keeps real filesystems once per device, skipping pseudo and container mounts", () => {
    const mounts = selectRealMounts(parseMountinfo(mountinfo));
    expect(mounts.map((mount) => [mount.mountPoint, mount.source, mount.fsType])).toEqual([
      ["/", "/dev/vda1", "ext4"],
      ["/srv/my data", "/dev/vdb1", "xfs"],
    ]);
  });

  it("turns statfs blocks into bytes", async () => {
    const root = await procFixture({ "self/mountinfo": mountinfo });
    const collector = createFilesystemCollector({
      procRoot: root,
      statfs: async (mountPoint) =>
        mountPoint === "/"
          ? { bsize: 4096, blocks: 1000, bfree: 400, bavail: 300 }
          : { bsize: 4096, blocks: 0, bfree: 0, bavail: 0 },
    });
    expect(await collector.collect()).toEqual([
      {
        mount: "/",
        device: "/dev/vda1",
        fsType: "ext4",
        totalBytes: 4_096_000n,
        usedBytes: 2_457_600n,
        availableBytes: 1_228_800n,
      },
    ]);
  });
});

const diskstats = (vdaReads: number, vdaSectors: number, vdaWrites: number, vdaWritten: number) =>
  [
    `   7       0 loop0 100 0 800 10 0 0 0 0 0 10 10 0 0 0 0`,
    ` 254       0 vda ${vdaReads} 0 ${vdaSectors} 10 ${vdaWrites} 0 ${vdaWritten} 10 0 10 20 0 0 0 0`,
    ` 254       1 vda1 5 0 40 1 0 0 0 0 0 1 1 0 0 0 0`,
    "",
  ].join("\n");

describe("filesystem collector and a hung mount", () => {
  it("reports the others after the timeout and skips the hung one while its statfs is outstanding", async () => {
    const root = await procFixture({ "self/mountinfo": mountinfo });
    const calls: string[] = [];
    const collector = createFilesystemCollector({
      procRoot: root,
      timeoutMs: 50,
      statfs: (mountPoint) => {
        calls.push(mountPoint);
        return mountPoint === "/"
          ? Promise.resolve({ bsize: 4096, blocks: 10, bfree: 5, bavail: 5 })
          : new Promise(() => undefined);
      },
    });
    expect((await collector.collect()).map((reading) => reading.mount)).toEqual(["/"]);
    expect((await collector.collect()).map((reading) => reading.mount)).toEqual(["/"]);
    expect(calls.filter((mountPoint) => mountPoint !== "/")).toEqual(["/srv/my data"]);
  });
});

describe("disk I/O collector", () => {
  it("turns diskstats deltas into per-second rates of 512-byte sectors, skipping loop devices", async () => {
    const root = await procFixture({ diskstats: diskstats(100, 1000, 50, 2000) });
    let now = 0;
    const collector = createDiskIoCollector({ procRoot: root, now: () => now });
    expect(await collector.collect()).toEqual([]);
    await writeFile(path.join(root, "diskstats"), diskstats(120, 1400, 150, 2200));
    now = 2000;
    const readings = await collector.collect();
    expect(readings).toEqual([
      {
        device: "vda",
        readBytesPerSecond: 102_400,
        writeBytesPerSecond: 51_200,
        readsPerSecond: 10,
        writesPerSecond: 50,
      },
      {
        device: "vda1",
        readBytesPerSecond: 0,
        writeBytesPerSecond: 0,
        readsPerSecond: 0,
        writesPerSecond: 0,
      },
    ]);
  });
});

const netDev = (ethRx: number, ethTx: number) =>
  [
    "Inter-|   Receive                                                |  Transmit",
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
    `    lo: 5000 10 0 0 0 0 0 0 5000 10 0 0 0 0 0 0`,
    `  eth0: ${ethRx} 10 0 0 0 0 0 0 ${ethTx} 10 0 0 0 0 0 0`,
    `vethab12: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0`,
    "",
  ].join("\n");

describe("network collector", () => {
  it("reports per-NIC rates from /proc/net/dev deltas, without lo and veth", async () => {
    const root = await procFixture({ "net/dev": netDev(1000, 500) });
    let now = 0;
    const collector = createNetworkCollector({ procRoot: root, now: () => now });
    await collector.collect();
    await writeFile(path.join(root, "net/dev"), netDev(11_000, 400));
    now = 10_000;
    // tx went backwards (counter reset): a rate of 0, not a negative one.
    expect(await collector.collect()).toEqual([
      { name: "eth0", rxBytesPerSecond: 1000, txBytesPerSecond: 0 },
    ]);
  });
});

describe("tcp connection collector", () => {
  const table = (states: string[]) =>
    [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      ...states.map(
        (state, index) =>
          `   ${index}: 0100007F:1F90 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 1`,
      ),
      "",
    ].join("\n");

  it("counts every state but LISTEN, over IPv4 and IPv6", async () => {
    expect(countTcpConnections(table(["0A", "01", "06"]))).toBe(2);
    const root = await procFixture({ "net/tcp": table(["0A", "01"]), "net/tcp6": table(["01", "08", "0A"]) });
    expect(await createTcpConnectionCollector({ procRoot: root }).collect()).toBe(3);
  });

  it("counts a table far larger than its read buffer, lines split across reads included", async () => {
    const states = Array.from({ length: 5000 }, (_, index) => (index % 7 === 0 ? "0A" : "06"));
    const listening = states.filter((state) => state === "0A").length;
    const root = await procFixture({ "net/tcp": table(states) }); // no tcp6: IPv6 disabled
    expect(await createTcpConnectionCollector({ procRoot: root }).collect()).toBe(5000 - listening);
  });
});

describe("collectors on this machine's real /proc", () => {
  it("return values in sane ranges", async () => {
    const cpu = createCpuCollector();
    await cpu.collect();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const cpuReading = await cpu.collect();
    expect(cpuReading.cores).toBe(os.cpus().length);
    expect(cpuReading.perCorePercent).toHaveLength(cpuReading.cores);
    expect(cpuReading.usagePercent).toBeGreaterThanOrEqual(0);
    expect(cpuReading.usagePercent).toBeLessThanOrEqual(100);
    expect(cpuReading.load1).toBeGreaterThanOrEqual(0);

    const memory = await createMemoryCollector().collect();
    expect(Number(memory.totalBytes)).toBeCloseTo(os.totalmem(), -6);
    expect(memory.usedBytes + memory.availableBytes).toBe(memory.totalBytes);

    const filesystems = await createFilesystemCollector().collect();
    const root = filesystems.find((filesystem) => filesystem.mount === "/");
    expect(root?.totalBytes).toBeGreaterThan(0n);
    expect(root && root.usedBytes <= root.totalBytes).toBe(true);
    expect(filesystems.every((filesystem) => !["tmpfs", "overlay", "proc"].includes(filesystem.fsType))).toBe(
      true,
    );

    const disks = createDiskIoCollector();
    const network = createNetworkCollector();
    await Promise.all([disks.collect(), network.collect()]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [diskReadings, nicReadings] = await Promise.all([disks.collect(), network.collect()]);
    expect(
      diskReadings.every((disk) => disk.readBytesPerSecond >= 0 && !disk.device.startsWith("loop")),
    ).toBe(true);
    expect(nicReadings.every((nic) => nic.name !== "lo" && nic.rxBytesPerSecond >= 0)).toBe(true);

    expect(await createTcpConnectionCollector().collect()).toBeGreaterThanOrEqual(0);
  });
});
