import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AlertFixture, createAlertFixture } from "../../../../test/support/alert-fixture.js";
import { databaseKinds } from "../../../../test/support/test-databases.js";
import { startWebhookReceiver } from "../../../../test/support/webhook-receiver.js";
import { alerts } from "../../../platform/db/schema/alerts.js";
import { auditLog } from "../../../platform/db/schema/audit.js";
import { AppError } from "../../../platform/errors/app-error.js";
import { systemContext } from "../../audit/audit-context.js";
import { createChannel } from "../channels/channel-store.js";
import { createRule } from "../rule-store.js";
import { acknowledgeAlert } from "../silences/acknowledge-alert.js";
import { createSilence, endSilence } from "../silences/silence-store.js";
import { immediateNotificationPolicy } from "./notification-policy.js";

interface Body {
  status: string;
  title: string;
  repeat: boolean;
  server: { id: string };
  alerts: Array<{ status: string; labels: Record<string, string>; rule: string; flapping: boolean }>;
}

/** One fixture per database kind; each test uses its own servers and reads only their messages. */
describe.each(databaseKinds)("grouped notifications on %s", (kind) => {
  let t: AlertFixture;
  beforeAll(async () => {
    t = await createAlertFixture(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Moves the clock to `atMs` after `start`, stores samples, evaluates, delivers; new webhook bodies of `serverId`. */
  async function cycle(
    start: number,
    atMs: number,
    samples: Record<string, Record<string, number>>,
    serverId: string,
  ): Promise<Body[]> {
    t.clock.advance(start + atMs - t.clock.now().getTime());
    for (const [id, mounts] of Object.entries(samples)) await t.sample(id, mounts);
    const before = t.webhook.received.length;
    await t.evaluate();
    await t.worker().runDue();
    return t.webhook.received
      .slice(before)
      .map((r) => r.body as unknown as Body)
      .filter((body) => body.server?.id === serverId);
  }

  it("waits group wait to gather, group interval between messages, repeats until acknowledged, and tells resolutions", async () => {
    t.policy = {
      groupWaitMs: 30_000,
      groupIntervalMs: 60_000,
      repeatIntervalMs: 300_000,
      flapThreshold: 0,
      flapWindowMs: 0,
    };
    const id = await t.addServer("group-1");
    const start = t.clock.now().getTime();
    const at = (ms: number, mounts: Record<string, number>) => cycle(start, ms, { [id]: mounts }, id);
    expect(await at(0, { "/": 95, "/srv": 50 })).toEqual([]);
    expect(await at(20_000, { "/": 95, "/srv": 95 })).toEqual([]);
    expect(await at(60_000, { "/": 95, "/srv": 95 })).toEqual([]); // "/" fires: group wait starts
    expect(await at(80_000, { "/": 95, "/srv": 95 })).toEqual([]); // "/srv" fires within the wait
    const first = await at(90_000, { "/": 95, "/srv": 95 });
    expect(first).toHaveLength(1);
    expect(first[0]?.status).toBe("firing");
    expect(first[0]?.alerts.map((a) => `${a.labels.mount}:${a.status}`)).toEqual(
      expect.arrayContaining(["/:firing", "/srv:firing"]),
    );
    expect(first[0]?.alerts).toHaveLength(2);

    // "/" resolves at 100 s; the group told something at 90 s, so it waits the interval (until 150 s).
    expect(await at(100_000, { "/": 50, "/srv": 95 })).toEqual([]);
    expect(await at(140_000, { "/": 50, "/srv": 95 })).toEqual([]);
    const resolved = await at(150_000, { "/": 50, "/srv": 95 });
    expect(resolved.map((b) => [b.status, b.alerts.map((a) => `${a.labels.mount}:${a.status}`)])).toEqual([
      ["resolved", ["/:resolved"]],
    ]);

    // Still firing: told again after the repeat interval (300 s after 90 s), then acknowledged.
    expect(await at(380_000, { "/": 50, "/srv": 95 })).toEqual([]);
    const repeat = await at(390_000, { "/": 50, "/srv": 95 });
    expect(repeat.map((b) => [b.repeat, b.title])).toEqual([
      [true, "[STILL FIRING] disk /srv on group-1 is 95% full (critical at 90%)"],
    ]);
    const [srv] = await t.db
      .select()
      .from(alerts)
      .where(and(eq(alerts.serverId, id), eq(alerts.state, "firing")));
    await acknowledgeAlert(
      t.db,
      systemContext(),
      { alertId: srv?.id as string, comment: "on it" },
      t.clock.now(),
    );
    expect(await at(690_000, { "/": 50, "/srv": 95 })).toEqual([]);
    expect(await at(1_000_000, { "/": 50, "/srv": 95 })).toEqual([]);
    // An acknowledged alert's resolution is still told.
    const end = await at(1_010_000, { "/": 50, "/srv": 50 });
    expect(end.map((b) => `${b.status}:${b.alerts.map((a) => a.labels.mount).join(",")}`)).toEqual([
      "resolved:/srv",
    ]);
    const audited = await t.db.select().from(auditLog).where(eq(auditLog.action, "alert.acknowledge"));
    expect(audited.map((entry) => entry.targetId)).toContain(srv?.id);
  });

  it("holds alerts a silence or a maintenance window covers, and tells them once it ends", async () => {
    t.policy = immediateNotificationPolicy;
    const prod = await t.addServer("silenced-prod", { env: "prod" });
    const staging = await t.addServer("maint-staging", { env: "staging" });
    const now = t.clock.now();
    const inMinutes = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
    const silence = await createSilence(
      t.db,
      systemContext(),
      {
        kind: "silence",
        ruleKey: "builtin:disk_used",
        serverId: prod,
        selector: "",
        startsAt: undefined,
        endsAt: inMinutes(30),
        comment: "resizing the volume",
      },
      now,
    );
    await createSilence(
      t.db,
      systemContext(),
      {
        kind: "maintenance",
        ruleKey: "",
        serverId: "",
        selector: "env=staging",
        startsAt: inMinutes(0),
        endsAt: inMinutes(5),
        comment: "kernel upgrade",
      },
      now,
    );
    const start = now.getTime();
    const both = { [prod]: { "/": 95 }, [staging]: { "/": 95 } };
    const messages = async (ms: number) => {
      const before = t.webhook.received.length;
      await cycle(start, ms, both, "");
      return t.webhook.received.slice(before).map((r) => (r.body as unknown as Body).title);
    };
    expect(await messages(0)).toEqual([]);
    expect(await messages(60_000)).toEqual([]); // both fire, both muted
    expect(await messages(120_000)).toEqual([]);
    expect(await messages(300_000)).toEqual([
      "[FIRING] disk / on maint-staging is 95% full (critical at 90%)",
    ]);
    await endSilence(t.db, systemContext(), silence.id, t.clock.now());
    expect(await messages(310_000)).toEqual([
      "[FIRING] disk / on silenced-prod is 95% full (critical at 90%)",
    ]);
    const audited = await t.db.select().from(auditLog).where(eq(auditLog.targetId, silence.id));
    expect(audited.map((entry) => entry.action)).toEqual(["alert.silence.create", "alert.silence.end"]);
  });

  it("refuses bad silences naming the field", async () => {
    const now = t.clock.now();
    const base = {
      kind: "silence",
      ruleKey: "",
      serverId: "",
      selector: "env=prod",
      startsAt: undefined,
      endsAt: new Date(now.getTime() + 60_000),
      comment: "why",
    };
    const fieldOf = async (changes: Partial<typeof base>) => {
      try {
        await createSilence(t.db, systemContext(), { ...base, ...changes }, now);
        return "created";
      } catch (error) {
        return `${(error as AppError).code}:${(error as AppError).field}`;
      }
    };
    expect(await fieldOf({ comment: " " })).toBe("invalid_argument:comment");
    expect(await fieldOf({ kind: "forever" })).toBe("invalid_argument:kind");
    expect(await fieldOf({ selector: "env==" })).toBe("invalid_argument:selector");
    expect(await fieldOf({ selector: "" })).toBe("invalid_argument:selector");
    expect(await fieldOf({ endsAt: new Date(now.getTime() - 1) })).toBe("invalid_argument:ends_at");
    expect(await fieldOf({ endsAt: undefined })).toBe("invalid_argument:ends_at");
    expect(await fieldOf({ serverId: "nope" })).toBe("invalid_argument:server_id");
    expect(await fieldOf({ serverId: "6b0e2c1e-0000-4000-8000-000000000000" })).toBe(
      "invalid_argument:server_id",
    );
    expect(await fieldOf({ ruleKey: "rule:6b0e2c1e-0000-4000-8000-000000000000" })).toBe(
      "invalid_argument:rule_key",
    );
    expect(await fieldOf({ ruleKey: "builtin:nothing" })).toBe("invalid_argument:rule_key");
    expect(await fieldOf({ kind: "maintenance", ruleKey: "builtin:disk_used" })).toBe(
      "invalid_argument:rule_key",
    );
    expect(await fieldOf({})).toBe("created");
    expect(AppError).toBeDefined();
  });

  it("tells a flapping alert once and its resolution once it calms down", async () => {
    t.policy = {
      groupWaitMs: 0,
      groupIntervalMs: 10_000,
      repeatIntervalMs: 0,
      flapThreshold: 3,
      flapWindowMs: 30_000,
    };
    const id = await t.addServer("flappy", { flap: "yes" });
    await createRule(
      t.db,
      systemContext(),
      {
        name: "flappy disk",
        metric: "disk_used_percent",
        selector: "flap=yes",
        comparison: ">",
        threshold: 85,
        forSeconds: 0,
        keepFiringForSeconds: 0,
        severity: "warning",
        description: "",
      },
      t.clock.now(),
    );
    const start = t.clock.now().getTime();
    const bodies: Body[] = [];
    // Up and down every 2 s for a minute, then down for good.
    for (let second = 0; second <= 60; second += 2) {
      const value = second % 4 === 0 ? 88 : 50;
      bodies.push(...(await cycle(start, second * 1000, { [id]: { "/": value } }, id)));
    }
    for (let second = 62; second <= 120; second += 2) {
      bodies.push(...(await cycle(start, second * 1000, { [id]: { "/": 50 } }, id)));
    }
    expect(
      bodies.map((b) => `${b.status}:${b.alerts.map((a) => `${a.rule}:${a.status}`).join(",")}`),
    ).toEqual(["firing:flappy disk:firing", "resolved:flappy disk:resolved"]);
  });

  it("routes a channel by server selector and least severity", async () => {
    t.policy = immediateNotificationPolicy;
    const routed = await startWebhookReceiver("routed-channel-secret-0123");
    try {
      await createChannel(
        t.db,
        systemContext(),
        t.keyring,
        {
          name: "prod pager",
          webhook: { url: routed.url, secret: "routed-channel-secret-0123" },
          route: { selector: "tier=db", minSeverity: "critical" },
        },
        t.clock.now(),
      );
      const db = await t.addServer("route-db", { tier: "db" });
      const web = await t.addServer("route-web", { tier: "web" });
      const start = t.clock.now().getTime();
      const mounts: Record<string, Record<string, number>> = {
        [db]: { "/": 95, "/srv": 85 },
        [web]: { "/": 95 },
      };
      await cycle(start, 0, mounts, "");
      await cycle(start, 60_000, mounts, "");
      // Only route-db's critical mount reaches the routed channel; the other channels get all.
      expect(
        routed.received.map((r) => (r.body as unknown as Body).alerts.map((a) => a.labels.mount)),
      ).toEqual([["/"]]);
      expect(routed.received[0]?.body.server).toMatchObject({ id: db });
    } finally {
      await routed.close();
    }
  });
});
