import type { DevicePoint } from "../metrics/device-series.js";
import type { SeriesPoint } from "../metrics/get-series.js";
import type { ServerEvidence } from "./diagnosis-types.js";

/**
 * The fault table: synthetic evidence for one server with 30 days of normal hourly history and a
 * window in which one fault is injected. Used by the analyzer tests (top-1 per case) and by
 * `npm run bench:diagnosis` (timing and top-1 accuracy). The real-agent suite the issue asks for
 * would feed the same analyzers from recorded samples.
 */
export interface FaultCase {
  readonly name: string;
  readonly question: string;
  /** The analyzer whose finding must rank first. */
  readonly expected: string;
  readonly build: (now: Date) => ServerEvidence;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;
const GIB = 2 ** 30;
const TOTAL = 8 * GIB;

function point(time: Date, patch: Partial<SeriesPoint> = {}): SeriesPoint {
  const hour = time.getUTCHours();
  const busy = hour >= 9 && hour < 17;
  return {
    time,
    samples: 6,
    cpuPercent: (busy ? 35 : 12) + ((time.getTime() / MINUTE) % 3),
    cpuPercentMax: busy ? 50 : 20,
    load1: 0.5,
    load5: 0.5,
    load15: 0.5,
    memoryTotal: TOTAL,
    memoryUsed: 3 * GIB,
    memoryUsedMax: 3 * GIB,
    memoryAvailable: 5 * GIB,
    swapUsed: 0,
    diskUsedPercent: 41,
    diskReadBps: 1e5,
    diskWriteBps: 2e5,
    netRxBps: 1e5,
    netTxBps: 1e5,
    tcpConnections: 40,
    containersRunning: 3,
    ...patch,
  };
}

type Containers = DevicePoint["detail"]["containers"];
const normalContainers: Containers = [
  ["c1", "odoo-web", "running", 8, 900 * 2 ** 20, 2 * GIB],
  ["c2", "odoo-db", "running", 4, 600 * 2 ** 20, 2 * GIB],
  ["c3", "nginx", "running", 1, 50 * 2 ** 20, 0],
];

function device(
  time: Date,
  patch: { rootUsed?: number; containers?: Containers; memoryActive?: number } = {},
): DevicePoint {
  const total = 100 * GIB;
  const used = ((patch.rootUsed ?? 41) / 100) * total;
  return {
    time,
    memoryUsed: 3 * GIB,
    memoryActive: patch.memoryActive ?? 2 * GIB + ((time.getTime() / MINUTE) % 7) * 2 ** 20,
    swapUsed: 0,
    detail: {
      cores: [10, 10],
      fs: [
        ["/", "/dev/sda1", "ext4", total, used, total - used],
        ["/boot", "/dev/sda2", "ext4", GIB, 0.2 * GIB, 0.8 * GIB],
      ],
      disks: [],
      nics: [],
      containers: patch.containers ?? normalContainers,
    },
  };
}

/** A healthy server's evidence: 30 days of hourly history, a 2-hour window of 1-minute points. */
export function healthyEvidence(now: Date, name = "web-1"): ServerEvidence {
  const history: SeriesPoint[] = [];
  const start = Math.floor(now.getTime() / HOUR) * HOUR - 30 * 24 * HOUR;
  for (let t = start; t < now.getTime() - 2 * HOUR; t += HOUR) history.push(point(new Date(t)));
  const recent: SeriesPoint[] = [];
  const devices: DevicePoint[] = [];
  for (let t = now.getTime() - 2 * HOUR; t < now.getTime(); t += MINUTE) {
    recent.push(point(new Date(t)));
    devices.push(device(new Date(t)));
  }
  return {
    server: {
      id: "00000000-0000-4000-8000-000000000001",
      name,
      status: "active",
      lastSeenAt: new Date(now.getTime() - 5_000),
    },
    now,
    window: { from: new Date(now.getTime() - 2 * HOUR), to: now },
    history,
    recent,
    devices,
    alerts: [],
    certificates: [{ serial: "01", notAfter: new Date(now.getTime() + 60 * 24 * HOUR) }],
    instances: [],
  };
}

/** Index of minute i in the 2-hour window. */
const minuteOf = (evidence: ServerEvidence, time: Date) =>
  Math.round((time.getTime() - evidence.window.from.getTime()) / MINUTE);

export const FAULT_CASES: readonly FaultCase[] = [
  {
    name: "disk filled",
    question: "why is web-1 slow?",
    expected: "disk_full",
    build: (now) => {
      const e = healthyEvidence(now);
      // Root fills from 60 % to 97 % over the last hour.
      const devices = e.devices.map((d) => {
        const i = minuteOf(e, d.time);
        return i < 60 ? d : device(d.time, { rootUsed: 60 + ((i - 60) * 37) / 59 });
      });
      return { ...e, devices };
    },
  },
  {
    name: "CPU hog container",
    question: "web-1 is slow",
    expected: "cpu_saturation",
    build: (now) => {
      const e = healthyEvidence(now);
      const hog = (d: DevicePoint): DevicePoint =>
        device(d.time, {
          containers: [["c9", "cpu-hog", "running", 180, 20 * 2 ** 20, 0], ...normalContainers],
        });
      return {
        ...e,
        recent: e.recent.map((p, i) =>
          i >= 50 ? { ...p, cpuPercent: 96 + (i % 4), cpuPercentMax: 100, load1: 4.2 } : p,
        ),
        devices: e.devices.map((d, i) => (i >= 50 ? hog(d) : d)),
      };
    },
  },
  {
    name: "memory leak process",
    question: "memory keeps growing",
    expected: "memory_pressure",
    build: (now) => {
      const e = healthyEvidence(now);
      return { ...e, devices: e.devices.map((d, i) => ({ ...d, memoryActive: 2 * GIB + i * 40 * 2 ** 20 })) };
    },
  },
  {
    name: "memory 98 %",
    question: "memory 98 %, urgent",
    expected: "memory_pressure",
    build: (now) => {
      const e = healthyEvidence(now);
      return {
        ...e,
        recent: e.recent.map((p, i) =>
          i >= 90 ? { ...p, memoryAvailable: 0.16 * GIB, memoryUsed: 7.8 * GIB, swapUsed: GIB } : p,
        ),
      };
    },
  },
  {
    name: "crash-looping container",
    question: "the site is down",
    expected: "container_restarts",
    build: (now) => {
      const e = healthyEvidence(now);
      const looping = (d: DevicePoint, i: number): DevicePoint =>
        device(d.time, {
          containers: [
            [
              "c1",
              "odoo-web",
              i % 3 === 0 ? "restarting" : i % 3 === 1 ? "running" : "exited",
              0,
              100 * 2 ** 20,
              2 * GIB,
            ],
            ...normalContainers.slice(1),
          ],
        });
      return { ...e, devices: e.devices.map((d, i) => (i >= 80 ? looping(d, i) : d)) };
    },
  },
  {
    name: "Docker stopped",
    question: "containers are gone",
    expected: "docker_daemon",
    build: (now) => {
      const e = healthyEvidence(now);
      return {
        ...e,
        recent: e.recent.map((p, i) => (i >= 100 ? { ...p, containersRunning: null } : p)),
        devices: e.devices.map((d, i) => (i >= 100 ? { ...d, detail: { ...d.detail, containers: [] } } : d)),
      };
    },
  },
  {
    name: "agent offline",
    question: "web-1 does not answer",
    expected: "agent_connectivity",
    build: (now) => {
      const e = healthyEvidence(now);
      const cut = now.getTime() - 40 * MINUTE;
      return {
        ...e,
        server: { ...e.server, status: "offline", lastSeenAt: new Date(cut) },
        recent: e.recent.filter((p) => p.time.getTime() <= cut),
        devices: e.devices.filter((d) => d.time.getTime() <= cut),
      };
    },
  },
  {
    name: "Odoo instance failed",
    question: "odoo does not load",
    expected: "odoo_instances",
    build: (now) => {
      const e = healthyEvidence(now);
      return {
        ...e,
        instances: [
          {
            id: "i1",
            name: "shop",
            state: "failed",
            desiredState: "running",
            stateMessage: "container exited with code 255",
            updatedAt: new Date(now.getTime() - 30 * MINUTE),
          },
        ],
      };
    },
  },
  {
    name: "agent certificate expired",
    question: "agent cannot connect after renewal",
    expected: "certificate_expiry",
    build: (now) => {
      const e = healthyEvidence(now);
      return { ...e, certificates: [{ serial: "02", notAfter: new Date(now.getTime() - HOUR) }] };
    },
  },
];
