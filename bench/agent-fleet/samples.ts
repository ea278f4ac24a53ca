// Realistic host samples for the benchmarks: a 4-core host with two filesystems, two block devices,
// two NICs and a handful of Docker containers (an Odoo stack), as the agent's collectors report them.

import { timestampFromDate } from "@bufbuild/protobuf/wkt";

/** The Hello a simulated agent sends first: the host facts of the benchmark's 4-core host (the gateway refuses one without). */
export function benchHello(hostname: string) {
  return {
    agentVersion: "0.1.0-bench",
    hostname,
    osId: "debian",
    osVersion: "12",
    kernel: "6.1.0",
    architecture: "x86_64",
    bootedAt: timestampFromDate(new Date(Date.now() - 86_400_000)),
    cpuCores: 4,
    memoryTotalBytes: 8n << 30n,
  };
}

export interface BenchSample {
  sequence: number;
  collectedAt: Date;
  cpu: {
    usagePercent: number;
    perCorePercent: number[];
    load1: number;
    load5: number;
    load15: number;
    cores: number;
  };
  memory: {
    totalBytes: number;
    usedBytes: number;
    availableBytes: number;
    activeBytes: number;
    swapTotalBytes: number;
    swapUsedBytes: number;
  };
  filesystems: {
    mount: string;
    device: string;
    fsType: string;
    totalBytes: number;
    usedBytes: number;
    availableBytes: number;
  }[];
  blockDevices: {
    device: string;
    readBytesPerSecond: number;
    writeBytesPerSecond: number;
    readsPerSecond: number;
    writesPerSecond: number;
  }[];
  networkInterfaces: { name: string; rxBytesPerSecond: number; txBytesPerSecond: number }[];
  tcpConnections: number;
  docker: {
    running: number;
    paused: number;
    stopped: number;
    restarting: number;
    containers: {
      id: string;
      name: string;
      state: string;
      cpuPercent: number;
      memoryBytes: number;
      memoryLimitBytes: number;
    }[];
  };
}

const GiB = 2 ** 30;
const r = (max: number) => Math.round(Math.random() * max * 100) / 100;

export function benchSample(sequence: number, collectedAt: Date): BenchSample {
  const used = Math.round((2 + Math.random() * 4) * GiB);
  return {
    sequence,
    collectedAt,
    cpu: {
      usagePercent: r(100),
      perCorePercent: [r(100), r(100), r(100), r(100)],
      load1: r(4),
      load5: r(4),
      load15: r(4),
      cores: 4,
    },
    memory: {
      totalBytes: 8 * GiB,
      usedBytes: used,
      availableBytes: 8 * GiB - used,
      activeBytes: Math.round(used * 0.7),
      swapTotalBytes: 2 * GiB,
      swapUsedBytes: Math.round(Math.random() * 1e8),
    },
    filesystems: [
      {
        mount: "/",
        device: "/dev/vda1",
        fsType: "ext4",
        totalBytes: 80 * GiB,
        usedBytes: 31 * GiB,
        availableBytes: 45 * GiB,
      },
      {
        mount: "/var/lib/docker",
        device: "/dev/vdb",
        fsType: "xfs",
        totalBytes: 200 * GiB,
        usedBytes: 77 * GiB,
        availableBytes: 123 * GiB,
      },
    ],
    blockDevices: [
      {
        device: "vda",
        readBytesPerSecond: r(1e6),
        writeBytesPerSecond: r(4e6),
        readsPerSecond: r(50),
        writesPerSecond: r(200),
      },
      {
        device: "vdb",
        readBytesPerSecond: r(1e6),
        writeBytesPerSecond: r(4e6),
        readsPerSecond: r(50),
        writesPerSecond: r(200),
      },
    ],
    networkInterfaces: [
      { name: "eth0", rxBytesPerSecond: r(1e6), txBytesPerSecond: r(1e6) },
      { name: "docker0", rxBytesPerSecond: r(1e5), txBytesPerSecond: r(1e5) },
    ],
    tcpConnections: 40 + Math.floor(Math.random() * 100),
    docker: {
      running: 4,
      paused: 0,
      stopped: 1,
      restarting: 0,
      containers: ["odoo", "odoo-cron", "postgres", "nginx", "backup"].map((name, index) => ({
        id: `c0ffee${index}deadbeef${index}`,
        name,
        state: index === 4 ? "exited" : "running",
        cpuPercent: r(50),
        memoryBytes: Math.round(Math.random() * GiB),
        memoryLimitBytes: 2 * GiB,
      })),
    },
  };
}
