import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { HostChecksSchema } from "@ocore/proto/gen/ocore/agent/v1/host_checks_pb.js";
import { asc, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AlertFixture, createAlertFixture, settings } from "../../../test/support/alert-fixture.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import type { BuiltinRuleSettings } from "../../platform/config/alert-config.js";
import { alerts } from "../../platform/db/schema/alerts.js";
import { hostCheckChanges } from "../../platform/db/schema/host-checks.js";
import { AppError } from "../../platform/errors/app-error.js";
import { evaluateAlerts } from "../alerts/evaluate-alerts.js";
import { HOST_CHECK_LIMITS, validateHostChecks } from "./host-check-input.js";
import { listServerChecks } from "./list-server-checks.js";
import { CHECK_HISTORY_PER_CHECK, recordHostChecks } from "./record-host-checks.js";
import { createThresholdResolver } from "./server-thresholds.js";

type RawResult = { key: string; subject?: string; state?: string; value?: number; message?: string };
const message = (results: RawResult[], at = new Date()) =>
  create(HostChecksSchema, {
    checkedAt: timestampFromDate(at),
    results: results.map((result) => ({ subject: "", state: "ok", message: "fine", ...result })),
  });

const fieldOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return `${error.code} ${error.field}`;
    throw error;
  }
  return undefined;
};

describe("host checks at the stream boundary", () => {
  it("accepts the agent's results and refuses bad ones naming the field", () => {
    const valid = validateHostChecks(
      message([
        { key: "docker" },
        { key: "inodes", subject: "/", value: 12.5 },
        { key: "sshd", state: "critical" },
      ]),
    );
    expect(valid.results).toHaveLength(3);
    expect(fieldOf(() => validateHostChecks(message([{ key: "telnet" }])))).toBe(
      "invalid_argument hostChecks.results[0].key",
    );
    expect(fieldOf(() => validateHostChecks(message([{ key: "docker", subject: "/" }])))).toBe(
      "invalid_argument hostChecks.results[0].subject",
    );
    expect(fieldOf(() => validateHostChecks(message([{ key: "sshd", state: "fine" }])))).toBe(
      "invalid_argument hostChecks.results[0].state",
    );
    expect(fieldOf(() => validateHostChecks(message([{ key: "sshd", message: "x".repeat(501) }])))).toBe(
      "invalid_argument hostChecks.results[0].message",
    );
    expect(fieldOf(() => validateHostChecks(message([{ key: "sshd" }, { key: "sshd" }])))).toBe(
      "invalid_argument hostChecks.results[1]",
    );
    const many = Array.from({ length: HOST_CHECK_LIMITS.results + 1 }, (_, i) => ({
      key: "inodes",
      subject: `/m${i}`,
    }));
    expect(fieldOf(() => validateHostChecks(message(many)))).toBe("invalid_argument hostChecks.results");
    expect(fieldOf(() => validateHostChecks(create(HostChecksSchema, {})))).toBe(
      "invalid_argument hostChecks.checkedAt",
    );
  });
});

describe("per-tag thresholds", () => {
  const base: BuiltinRuleSettings = {
    ...settings,
    tagOverrides: [
      {
        selector: "env=staging",
        thresholds: { disk: { warn: 95, critical: 98 }, inodes: { warn: 95, critical: 99 } },
      },
      { selector: "env in (staging,prod)", thresholds: { memory: { warn: 50, critical: 60 } } },
    ],
  };

  it("take the first matching override, keep the defaults for what it does not name", () => {
    const resolve = createThresholdResolver(base);
    expect(resolve({ env: "staging" })).toMatchObject({
      diskWarnPercent: 95,
      diskCriticalPercent: 98,
      inodesPercent: { warn: 95, critical: 99 },
      memoryPercent: settings.memoryPercent,
    });
    expect(resolve({ env: "prod" })).toMatchObject({
      diskWarnPercent: 80,
      memoryPercent: { warn: 50, critical: 60 },
    });
    expect(resolve({})).toBe(base);
  });

  it("refuse a bad selector naming its entry", () => {
    const bad = { ...settings, tagOverrides: [{ selector: "env==", thresholds: {} }] };
    expect(fieldOf(() => createThresholdResolver(bad))).toBe(
      "invalid_argument OCORE_ALERT_TAG_THRESHOLDS[0].selector",
    );
  });
});

describe.each(databaseKinds)("stored check results and their alerts on %s", (kind) => {
  let t: AlertFixture;
  beforeEach(async () => {
    t = await createAlertFixture(kind);
  });
  afterEach(async () => {
    await t?.close();
  });

  const tagged: BuiltinRuleSettings = {
    ...settings,
    hostCheckForSeconds: 0,
    tagOverrides: [
      {
        selector: "env=staging",
        thresholds: { disk: { warn: 95, critical: 98 }, inodes: { warn: 95, critical: 99 } },
      },
    ],
  };
  const thresholdsFor = createThresholdResolver(tagged);
  const record = (serverId: string, results: RawResult[]) =>
    recordHostChecks(t.db, serverId, validateHostChecks(message(results, t.clock.now())), {
      now: t.clock.now(),
      thresholdsFor,
    });
  const evaluate = () =>
    evaluateAlerts(t.db, { now: t.clock.now(), settings: tagged, maxSampleAgeMs: 120_000 });
  const firing = async (serverId: string) =>
    (await t.db.select().from(alerts).where(eq(alerts.serverId, serverId)).orderBy(asc(alerts.ruleKey)))
      .filter((row) => row.state === "firing")
      .map((row) => `${row.ruleKey} ${row.severity}`);

  it("judge inodes with each server's thresholds, keep state changes, and fire per tag", async () => {
    const prod = await t.addServer("prod-1", { env: "prod" });
    const staging = await t.addServer("stage-1", { env: "staging" });
    for (const id of [prod, staging]) {
      await t.sample(id, { "/": 92 });
      await record(id, [
        { key: "docker", state: "critical", message: "the Docker daemon does not answer" },
        { key: "sshd", message: "sshd runs and listens on port 22" },
        { key: "inodes", subject: "/", value: 90, message: "90% of inodes in use" },
      ]);
    }
    const prodChecks = await listServerChecks(t.db, prod, { historyLimit: 50 });
    expect(prodChecks.checks.map((c) => `${c.key}${c.subject} ${c.state}`)).toEqual([
      "docker critical",
      "inodes/ warning",
      "sshd ok",
    ]);
    expect(prodChecks.checks[0]?.action).toContain("systemctl status docker");
    const stagingChecks = await listServerChecks(t.db, staging, { historyLimit: 50 });
    expect(stagingChecks.checks.find((c) => c.key === "inodes")?.state).toBe("ok");

    await evaluate();
    t.clock.advance(61_000);
    await t.sample(prod, { "/": 92 });
    await t.sample(staging, { "/": 92 });
    await record(prod, [
      { key: "docker", state: "critical" },
      { key: "inodes", subject: "/", value: 90 },
    ]);
    await record(staging, [
      { key: "docker", state: "critical" },
      { key: "inodes", subject: "/", value: 90 },
    ]);
    await evaluate();
    // Disk 92%: critical on prod (default 80/90), nothing on staging (95/98); inodes likewise.
    expect(await firing(prod)).toEqual([
      "builtin:disk_used critical",
      "builtin:docker_daemon critical",
      "builtin:inodes_used warning",
    ]);
    expect(await firing(staging)).toEqual(["builtin:docker_daemon critical"]);

    // Docker answers again; inodes drop below warn but within the hysteresis band: still warning.
    t.clock.advance(10_000);
    await t.sample(prod, { "/": 40 });
    await record(prod, [
      { key: "docker", message: "Docker 27 answers in 2 ms" },
      { key: "inodes", subject: "/", value: 82 },
    ]);
    await evaluate();
    expect(await firing(prod)).toEqual(["builtin:inodes_used warning"]);
    await record(prod, [{ key: "docker" }, { key: "inodes", subject: "/", value: 70 }]);
    await evaluate();
    expect(await firing(prod)).toEqual([]);

    const history = await listServerChecks(t.db, prod, { historyLimit: 50 });
    // Newest first; sshd was left out of later messages: its result is gone, its history stays.
    expect(history.changes.map((c) => `${c.key}${c.subject} ${c.fromState}->${c.toState}`)).toEqual([
      "inodes/ warning->ok",
      "docker critical->ok",
      "inodes/ ->warning",
      "sshd ->ok",
      "docker ->critical",
    ]);
    expect(history.checks.map((c) => c.key)).toEqual(["docker", "inodes"]);
  });

  // 107 transactions: on PostgreSQL only (PGlite takes 15 s for them on a loaded machine).
  it.runIf(kind === "postgres")("keeps at most CHECK_HISTORY_PER_CHECK changes per check", async () => {
    const id = await t.addServer("flappy");
    for (let i = 0; i < CHECK_HISTORY_PER_CHECK + 7; i += 1) {
      t.clock.advance(1_000);
      await record(id, [{ key: "sshd", state: i % 2 === 0 ? "ok" : "critical" }]);
    }
    const rows = await t.db.select().from(hostCheckChanges).where(eq(hostCheckChanges.serverId, id));
    expect(rows).toHaveLength(CHECK_HISTORY_PER_CHECK);
  });
});
