import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { HostChecksSchema } from "@ocore/proto/gen/ocore/agent/v1/host_checks_pb.js";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AlertFixture, createAlertFixture, settings } from "../../../test/support/alert-fixture.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { alerts } from "../../platform/db/schema/alerts.js";
import { instances } from "../../platform/db/schema/instances.js";
import { AppError } from "../../platform/errors/app-error.js";
import { agentCheckSignals } from "../alerts/agent-check-signals.js";
import { defaultBuiltinRuleSettings } from "../alerts/alert-types.js";
import { evaluateAlerts } from "../alerts/evaluate-alerts.js";
import { validateHostChecks } from "./host-check-input.js";
import { listServerChecks } from "./list-server-checks.js";
import { recordHostChecks } from "./record-host-checks.js";
import { createThresholdResolver } from "./server-thresholds.js";

type RawResult = { key: string; subject?: string; state?: string; value?: number; message?: string };
const message = (results: RawResult[], at = new Date()) =>
  create(HostChecksSchema, {
    checkedAt: timestampFromDate(at),
    results: results.map((result) => ({ subject: "", state: "ok", message: "fine", ...result })),
  });

describe("an instance's checks at the stream boundary", () => {
  it("need the instance's name as subject, and fit 100 instances in one message", () => {
    const refused = (results: RawResult[]) => {
      try {
        validateHostChecks(message(results));
      } catch (error) {
        if (error instanceof AppError) return `${error.code} ${error.field} ${error.message}`;
        throw error;
      }
      return "accepted";
    };
    expect(refused([{ key: "odoo_web" }])).toMatch(
      /^invalid_argument hostChecks.results\[0\].subject .*instance name/,
    );
    expect(refused([{ key: "odoo_realtime", subject: "Shop!" }])).toMatch(
      /^invalid_argument hostChecks.results\[0\].subject/,
    );
    expect(refused([{ key: "odoo_queue", subject: "shop" }])).toMatch(
      /^invalid_argument hostChecks.results\[0\].key/,
    );
    const many = Array.from({ length: 100 }, (_, i) =>
      ["odoo_containers", "odoo_web", "odoo_realtime", "odoo_cron", "odoo_mail"].map((key) => ({
        key,
        subject: `shop-${i}`,
      })),
    ).flat();
    expect(refused([...many, { key: "docker" }, { key: "sshd" }])).toBe("accepted");
  });
});

describe("an instance's checks as alert signals", () => {
  it("give each check its rule, labelled by instance, with what was found and what to do", () => {
    const check = (key: string, state: string, message: string) => ({
      key,
      subject: "shop",
      state,
      value: 1,
      message,
    });
    const signals = agentCheckSignals(
      {
        serverId: "s-1",
        name: "odoo-1",
        tags: {},
        offline: false,
        lastSeenAt: new Date(),
        checks: [
          check("odoo_cron", "warning", "2 scheduled actions are late; the most overdue by 20 min"),
          check("odoo_mail", "critical", "3 outgoing and 0 failed e-mails queued; the oldest for 180 min"),
          check("odoo_realtime", "unknown", "not checked: the Odoo container is exited"),
          check("odoo_containers", "ok", "db, mail and odoo are running"),
        ],
        backupSchedules: [],
        certificateNotAfter: null,
        sample: undefined,
        diskTrend: undefined,
      },
      defaultBuiltinRuleSettings,
    );
    expect(
      signals.map((s) => [
        s.ruleKey,
        s.labels.instance,
        s.severity,
        s.active,
        s.recovered,
        s.noData,
        s.dependent,
      ]),
    ).toEqual([
      ["builtin:instance_cron", "shop", "warning", true, false, false, true],
      ["builtin:instance_mail", "shop", "critical", true, false, false, true],
      ["builtin:instance_realtime", "shop", "warning", false, false, true, true],
      ["builtin:instance_containers", "shop", "warning", false, true, false, true],
    ]);
    expect(signals[0]?.describe()).toEqual({
      summary:
        "Scheduled actions of shop on odoo-1: 2 scheduled actions are late; the most overdue by 20 min",
      action: expect.stringMatching(/^Scheduled actions of instance shop on odoo-1 are late/),
    });
    expect(signals[1]?.describe().action).toMatch(/^E-mail of instance shop on odoo-1 is not leaving/);
  });
});

describe.each(databaseKinds)("an instance's checks and their alerts on %s", (kind) => {
  let t: AlertFixture;
  beforeEach(async () => {
    t = await createAlertFixture(kind);
  });
  afterEach(async () => {
    await t?.close();
  });

  const tuned = { ...settings, hostCheckForSeconds: 0 };
  const record = (serverId: string, results: RawResult[]) =>
    recordHostChecks(t.db, serverId, validateHostChecks(message(results, t.clock.now())), {
      now: t.clock.now(),
      thresholdsFor: createThresholdResolver(tuned),
    });
  const evaluate = () =>
    evaluateAlerts(t.db, { now: t.clock.now(), settings: tuned, maxSampleAgeMs: 120_000 });
  const instance = async (
    serverId: string,
    name: string,
    state: "running" | "creating",
    desired = "running",
  ) => {
    await t.db.insert(instances).values({
      serverId,
      name,
      state,
      desiredState: desired as "running" | "stopped",
      odooImage: "odoo:17.0",
      postgresImage: "postgres:16",
      mailpitImage: "axllent/mailpit",
      basePort: 10_000 + name.length * 10,
    });
  };
  const checksFor = (name: string) => [
    { key: "odoo_containers", subject: name, value: 3, message: "db, mail and odoo are running" },
    { key: "odoo_web", subject: name, message: "/web/health on port 10000 passes in 4 ms" },
    { key: "odoo_realtime", subject: name, message: "the WebSocket upgrade on /websocket answers" },
  ];

  it("judge cron lag with each server's (per-tag) thresholds", async () => {
    const staging = await t.addServer("stage-1", { env: "staging" });
    const prod = await t.addServer("prod-1", { env: "prod" });
    for (const id of [staging, prod]) await instance(id, "shop", "running");
    const perTag = createThresholdResolver({
      ...tuned,
      tagOverrides: [{ selector: "env=staging", thresholds: { cron_lag: { warn: 30, critical: 90 } } }],
    });
    const lateBy = async (serverId: string, seconds: number, state = "ok") => {
      await recordHostChecks(
        t.db,
        serverId,
        validateHostChecks(
          message([{ key: "odoo_cron", subject: "shop", state, value: seconds }], t.clock.now()),
        ),
        { now: t.clock.now(), thresholdsFor: perTag },
      );
      return (await listServerChecks(t.db, serverId, { historyLimit: 1 })).checks[0]?.state;
    };
    // 20 min late: past the default 15 min, within staging's 30.
    expect(await lateBy(prod, 1200)).toBe("warning");
    expect(await lateBy(staging, 1200)).toBe("ok");
    expect(await lateBy(prod, 3600)).toBe("critical");
    expect(await lateBy(staging, 3600)).toBe("warning");
    expect(await lateBy(prod, 60)).toBe("ok");
    // The agent could not read the database: unknown, whatever it measured.
    expect(await lateBy(prod, 0, "unknown")).toBe("unknown");
  });

  it("keep only instances oCore expects to run, fire under the host, and resolve when fixed or stopped on purpose", async () => {
    const serverId = await t.addServer("odoo-1");
    await instance(serverId, "shop", "running");
    await instance(serverId, "paused", "running", "stopped");
    await instance(serverId, "fresh", "creating");
    await t.sample(serverId, { "/": 40 });
    const failing = (name: string) => [
      checksFor(name)[0] as RawResult,
      {
        key: "odoo_web",
        subject: name,
        state: "critical",
        message: "/web/health on port 10000 fails: HTTP 500",
      },
      checksFor(name)[2] as RawResult,
    ];
    await record(serverId, [
      { key: "docker" },
      ...failing("shop"),
      ...failing("paused"),
      ...failing("fresh"),
      ...failing("ghost"),
    ]);
    const listed = await listServerChecks(t.db, serverId, { historyLimit: 20 });
    expect(listed.checks.map((check) => `${check.key} ${check.subject} ${check.state}`)).toEqual([
      "docker  ok",
      "odoo_containers shop ok",
      "odoo_realtime shop ok",
      "odoo_web shop critical",
    ]);
    expect(listed.checks.find((check) => check.key === "odoo_web")?.action).toMatch(
      /^Odoo of instance shop on odoo-1 does not answer its health check/,
    );

    await evaluate();
    const [fired] = await t.db.select().from(alerts).where(eq(alerts.serverId, serverId));
    expect(fired).toMatchObject({
      ruleKey: "builtin:instance_web",
      state: "firing",
      severity: "critical",
      labels: { instance: "shop" },
      summary: "Odoo web shop on odoo-1: /web/health on port 10000 fails: HTTP 500",
    });

    // Fixed: resolves.
    t.clock.advance(10_000);
    await t.sample(serverId, { "/": 40 });
    await record(serverId, [{ key: "docker" }, ...checksFor("shop")]);
    await evaluate();
    expect((await t.db.select().from(alerts).where(eq(alerts.serverId, serverId)))[0]?.state).toBe(
      "resolved",
    );

    // Fails again, then stopped on purpose: its checks are no longer kept and the alert resolves.
    t.clock.advance(10_000);
    await t.sample(serverId, { "/": 40 });
    await record(serverId, [{ key: "docker" }, ...failing("shop")]);
    await evaluate();
    expect((await t.db.select().from(alerts).where(eq(alerts.serverId, serverId)))[0]?.state).toBe("firing");
    await t.db
      .update(instances)
      .set({ desiredState: "stopped", state: "stopped" })
      .where(eq(instances.name, "shop"));
    t.clock.advance(10_000);
    await t.sample(serverId, { "/": 40 });
    await record(serverId, [{ key: "docker" }, ...failing("shop")]);
    await evaluate();
    const [stopped] = await t.db.select().from(alerts).where(eq(alerts.serverId, serverId));
    expect(stopped?.state).toBe("resolved");
    expect((await listServerChecks(t.db, serverId, { historyLimit: 20 })).checks.map((c) => c.key)).toEqual([
      "docker",
    ]);
  });
});
