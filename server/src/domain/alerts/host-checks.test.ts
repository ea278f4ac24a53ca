import { asc, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AlertFixture, createAlertFixture } from "../../../test/support/alert-fixture.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { agentCertificates } from "../../platform/db/schema/agent-identity.js";
import { alerts } from "../../platform/db/schema/alerts.js";
import { metricRollupsMinute, metricSamples } from "../../platform/db/schema/metrics.js";
import { defaultBuiltinRuleSettings } from "./alert-types.js";
import { hostCheckSignals } from "./host-check-signals.js";
import type { SampleValues } from "./metric-catalogue.js";
import type { ServerObservation } from "./observe-servers.js";

const now = new Date("2026-12-07T12:00:00Z");
const GiB = 2 ** 30;
const values: SampleValues = {
  cpu_percent: 10,
  load1: 1,
  load5: 1,
  load15: 1,
  cpu_cores: 2,
  memory_total: 8 * GiB,
  memory_used: 2 * GiB,
  memory_available: 6 * GiB,
  swap_total: 0,
  swap_used: 0,
  disk_used_percent: 70,
  disk_read_bps: 0,
  disk_write_bps: 0,
  net_rx_bps: 0,
  net_tx_bps: 0,
  tcp_connections: 1,
  containers_running: 1,
  containers_restarting: 0,
};

function observation(overrides: {
  values?: Partial<SampleValues>;
  skewMs?: number;
  restarting?: string[];
  certificateNotAfter?: Date | null;
  diskTrend?: ServerObservation["diskTrend"];
}): ServerObservation {
  return {
    serverId: "s-1",
    name: "db-1",
    tags: {},
    offline: false,
    lastSeenAt: now,
    sample: {
      collectedAt: new Date(now.getTime() + (overrides.skewMs ?? 0)),
      receivedAt: now,
      values: { ...values, ...overrides.values },
      mounts: [["/", overrides.values?.disk_used_percent ?? 70]],
      restarting: overrides.restarting ?? [],
    },
    checks: [],
    backupSchedules: [],
    certificateNotAfter: overrides.certificateNotAfter ?? null,
    diskTrend: overrides.diskTrend,
  };
}

const byRule = (server: ServerObservation) =>
  new Map(hostCheckSignals(server, defaultBuiltinRuleSettings, now).map((s) => [s.ruleName, s]));

describe("host checks", () => {
  it("judges a healthy host fine on every check, and does not judge swap it has none of", () => {
    const signals = byRule(observation({ certificateNotAfter: new Date(now.getTime() + 60 * 86_400_000) }));
    expect([...signals.keys()].sort()).toEqual([
      "Agent certificate expiry",
      "Clock skew",
      "Disk filling up",
      "Load per core",
      "Memory pressure",
    ]);
    for (const signal of signals.values()) {
      expect(signal).toMatchObject({ active: false, recovered: true, noData: false });
    }
  });

  it("raises warning and critical past each threshold, with hysteresis, and says what to do", () => {
    const hot = byRule(
      observation({
        values: { memory_available: 0.3 * GiB, swap_total: GiB, swap_used: 0.6 * GiB, load5: 9 },
        skewMs: -30_000,
        restarting: ["odoo-shop"],
        certificateNotAfter: new Date(now.getTime() + 2 * 86_400_000),
      }),
    );
    expect(hot.get("Memory pressure")).toMatchObject({ active: true, severity: "critical", value: 96.25 });
    expect(hot.get("Swap pressure")).toMatchObject({
      active: true,
      severity: "warning",
      value: 60,
      threshold: 50,
    });
    expect(hot.get("Load per core")).toMatchObject({ active: true, severity: "critical", value: 4.5 });
    const skew = hot.get("Clock skew");
    expect(skew).toMatchObject({ active: true, severity: "warning", value: 30 });
    expect(skew?.describe().summary).toBe("the clock of db-1 is 30 s behind this server (warning at 10 s)");
    expect(skew?.describe().action).toContain("timedatectl set-ntp true");
    expect(hot.get("Container restart loop")).toMatchObject({
      active: true,
      labels: { container: "odoo-shop" },
    });
    expect(hot.get("Container restart loop")?.describe().action).toContain(
      "docker logs --tail 100 odoo-shop",
    );
    expect(hot.get("Agent certificate expiry")).toMatchObject({
      active: true,
      severity: "critical",
      value: 2,
    });

    // Between the recovery point (10 % back past warn) and warn: neither active nor recovered.
    const between = byRule(observation({ values: { memory_available: 8 * GiB * 0.15 } }));
    expect(between.get("Memory pressure")).toMatchObject({ active: false, recovered: false, value: 85 });
  });

  it("predicts the time to full from the trend, and resolves once the disk no longer fills", () => {
    // 70 % used, +2 points an hour: 15 h left, under the 48 h warn threshold.
    const filling = byRule(
      observation({
        diskTrend: { percentPerSecond: 2 / 3600, points: 60 },
        values: { disk_used_percent: 70 },
      }),
    ).get("Disk filling up");
    expect(filling).toMatchObject({ active: true, severity: "warning", value: 15, threshold: 48 });
    expect(filling?.describe().summary).toBe(
      "the fullest filesystem of db-1 (70% used) will be full in about 15 h at the last hour's rate (warning under 48 h)",
    );
    const tooFew = byRule(observation({ diskTrend: { percentPerSecond: 1, points: 3 } })).get(
      "Disk filling up",
    );
    expect(tooFew).toMatchObject({ active: false, recovered: true });
    const shrinking = byRule(observation({ diskTrend: { percentPerSecond: -0.001, points: 60 } }));
    expect(shrinking.get("Disk filling up")?.describe().summary).toContain("is no longer filling up");
  });
});

describe.each(databaseKinds)("host checks from stored data on %s", (kind) => {
  let t: AlertFixture;
  beforeEach(async () => {
    t = await createAlertFixture(kind);
  });
  afterEach(async () => {
    await t?.close();
  });

  it("reads skew, restarting containers, the certificate and the disk trend, and starts their alerts", async () => {
    const id = await t.addServer("db-1");
    const at = t.clock.now();
    await t.sample(id, { "/": 70 });
    // The host's clock is 90 s ahead, and one container is restarting.
    await t.db
      .update(metricSamples)
      .set({
        collectedAt: new Date(at.getTime() + 90_000),
        detail: {
          cores: [1],
          fs: [["/", "/dev/vda1", "ext4", 100, 70, 30]],
          disks: [],
          nics: [],
          containers: [
            ["c1", "odoo-shop", "restarting", 0, 0, 0],
            ["c2", "db", "running", 1, 1, 1],
          ],
        },
      })
      .where(eq(metricSamples.serverId, id));
    await t.db.insert(agentCertificates).values({
      serial: "01",
      serverId: id,
      fingerprint: "f1",
      notAfter: new Date(at.getTime() + 5 * 86_400_000),
    });
    // An hour of 1-minute rollups rising from 50 % to 70 %: 20 points an hour, 1.5 h left.
    const rollup = {
      samples: 6,
      cpuPercent: 1,
      cpuPercentMax: 1,
      load1: 0,
      load5: 0,
      load15: 0,
      memoryTotal: 1,
      memoryUsed: 0,
      memoryUsedMax: 0,
      memoryAvailable: 1,
      swapUsed: 0,
      diskReadBps: 0,
      diskWriteBps: 0,
      netRxBps: 0,
      netTxBps: 0,
      tcpConnections: 0,
      updatedAt: at,
    };
    await t.db.insert(metricRollupsMinute).values(
      Array.from({ length: 60 }, (_, i) => ({
        ...rollup,
        serverId: id,
        bucket: new Date(at.getTime() - (59 - i) * 60_000),
        diskUsedPercent: 50 + (20 * i) / 59,
      })),
    );
    await t.evaluate();
    const rows = await t.db.select().from(alerts).orderBy(asc(alerts.ruleName));
    expect(rows.map((row) => [row.ruleName, row.state, row.severity, row.value])).toEqual([
      ["Agent certificate expiry", "firing", "warning", 5],
      ["Clock skew", "pending", "critical", 90],
      ["Container restart loop", "pending", "warning", null],
      ["Disk filling up", "pending", "critical", expect.closeTo(1.47, 1)],
    ]);
    expect(rows.find((row) => row.ruleName === "Clock skew")?.summary).toContain("90 s ahead of this server");
  });
});
