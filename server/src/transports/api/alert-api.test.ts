import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Alert, AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../../test/support/webhook-receiver.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { alertChannels, alerts } from "../../platform/db/schema/alerts.js";
import { servers } from "../../platform/db/schema/servers.js";

const SECRET = "webhook-signing-secret-42";
const PASSWORD = "smtp-password-never-shown";

async function refusal(call: Promise<unknown>): Promise<{ code: Code; message: string }> {
  const error = ConnectError.from(await call.then(() => undefined).catch((caught: unknown) => caught));
  return { code: error.code, message: error.rawMessage };
}

describe("AlertService", () => {
  let h: ApiHarness;
  let owner: ReturnType<typeof AlertServiceClient>;
  let receiver: WebhookReceiver;
  const AlertServiceClient = (token: string) => h.client(AlertService, token);
  beforeAll(async () => {
    h = await createApiHarness("pglite");
    owner = AlertServiceClient(await h.ownerToken());
    receiver = await startWebhookReceiver(SECRET);
  });
  afterAll(async () => {
    await receiver?.close();
    await h?.close();
  });

  const goodRule = {
    name: "load high",
    metric: "load1_per_core",
    selector: "env=prod",
    comparison: ">",
    threshold: 2,
    recoveryThreshold: 1.5,
    forSeconds: 300,
    keepFiringForSeconds: 60,
    severity: "warning",
    description: "Find the busy process with top.",
  };

  it("refuses bad rules with the field named", async () => {
    const cases: Array<[Partial<typeof goodRule>, string]> = [
      [{ threshold: Number.NaN }, "threshold: must be a finite number"],
      [{ forSeconds: 100_000 }, "for_seconds: must be at most 86400 (a day)"],
      [{ keepFiringForSeconds: 90_000 }, "keep_firing_for_seconds: must be at most 86400 (a day)"],
      [{ selector: "env=" }, "selector: expected a tag value"],
      [{ metric: "cpu" }, "metric: must be one of: cpu_percent"],
      [{ comparison: "=" }, "comparison: must be one of > >= < <="],
      [{ recoveryThreshold: 3 }, "recovery_threshold: must be at most the threshold (2)"],
      [{ severity: "page" }, 'severity: must be "warning" or "critical"'],
      [{ name: " " }, "name: is required"],
    ];
    for (const [change, message] of cases) {
      const refused = await refusal(owner.createRule({ ...goodRule, ...change }));
      expect(refused.code, message).toBe(Code.InvalidArgument);
      expect(refused.message).toContain(message);
    }
    expect((await owner.listRules({})).rules).toEqual([]);
  });

  it("creates, lists and deletes a rule", async () => {
    const { rule } = await owner.createRule(goodRule);
    expect(rule).toMatchObject({ ...goodRule, createdBy: "admin" });
    const listed = await owner.listRules({});
    expect(listed.rules.map((r) => r.name)).toEqual(["load high"]);
    expect(listed.metrics).toContain("memory_used_percent");
    expect((await refusal(owner.createRule(goodRule))).code).toBe(Code.AlreadyExists);
    await owner.deleteRule({ id: rule?.id });
    expect((await owner.listRules({})).rules).toEqual([]);
    expect((await refusal(owner.deleteRule({ id: rule?.id }))).code).toBe(Code.NotFound);
  });

  const email = {
    smtpHost: "smtp.example.com",
    smtpPort: 587,
    security: "starttls",
    username: "alerts",
    password: PASSWORD,
    from: "ocore@example.com",
    to: ["ops@example.com"],
  };

  it("refuses bad channel settings with the field named", async () => {
    const cases: Array<[Parameters<typeof owner.createChannel>[0], string]> = [
      [
        { name: "x", settings: { case: "email", value: { ...email, smtpPort: 0 } } },
        "email.smtp_port: must be 1-65535",
      ],
      [
        { name: "x", settings: { case: "email", value: { ...email, smtpHost: "smtp host" } } },
        "email.smtp_host: is not a host name",
      ],
      [
        { name: "x", settings: { case: "email", value: { ...email, security: "ssl" } } },
        'email.security: must be "starttls"',
      ],
      [
        { name: "x", settings: { case: "email", value: { ...email, to: ["ops"] } } },
        "email.to.0: is not an e-mail address",
      ],
      [
        { name: "x", settings: { case: "email", value: { ...email, to: [] } } },
        "email.to: needs at least one recipient",
      ],
      [
        { name: "x", settings: { case: "email", value: { ...email, password: "" } } },
        "email.password: is required with a username",
      ],
      [
        { name: "x", settings: { case: "webhook", value: { url: "ftp://x.example/", secret: SECRET } } },
        'webhook.url: scheme "ftp:"',
      ],
      [
        { name: "x", settings: { case: "webhook", value: { url: "not a url", secret: SECRET } } },
        "webhook.url: is not a URL",
      ],
      [
        {
          name: "x",
          settings: { case: "webhook", value: { url: "https://u:p@x.example/", secret: SECRET } },
        },
        "webhook.url: must not carry credentials",
      ],
      [
        { name: "x", settings: { case: "webhook", value: { url: receiver.url, secret: "short" } } },
        "webhook.secret: must be at least 16 characters",
      ],
      [{ name: "x" }, "settings: give exactly one of email, webhook, slack, discord, teams"],
      [
        { name: "x", settings: { case: "slack", value: { url: "hooks.slack.com/x", urlHint: "" } } },
        "slack.url: is not a URL",
      ],
      [
        {
          name: "x",
          settings: { case: "webhook", value: { url: receiver.url, secret: SECRET } },
          minSeverity: "page",
        },
        'route.min_severity: must be "warning" or "critical"',
      ],
      [
        {
          name: "x",
          settings: { case: "webhook", value: { url: receiver.url, secret: SECRET } },
          routeSelector: "env==",
        },
        "route.selector:",
      ],
      [
        { name: "", settings: { case: "webhook", value: { url: receiver.url, secret: SECRET } } },
        "name: is required",
      ],
    ];
    for (const [request, message] of cases) {
      const refused = await refusal(owner.createChannel(request));
      expect(refused.code, message).toBe(Code.InvalidArgument);
      expect(refused.message).toContain(message);
    }
  });

  it("seals channel secrets, never returns them, and test-sends through the delivery log", async () => {
    const mail = await owner.createChannel({ name: "ops mail", settings: { case: "email", value: email } });
    const hook = await owner.createChannel({
      name: "ops hook",
      settings: { case: "webhook", value: { url: receiver.url, secret: SECRET } },
    });
    const { channels } = await owner.listChannels({});
    expect(channels.map((c) => [c.name, c.kind, c.hasSecret])).toEqual([
      ["ops hook", "webhook", true],
      ["ops mail", "email", true],
    ]);
    expect(JSON.stringify(channels.map((c) => c.settings.value))).not.toMatch(
      new RegExp(`${PASSWORD}|${SECRET}`),
    );
    expect(channels[1]?.settings).toMatchObject({
      case: "email",
      value: { smtpHost: "smtp.example.com", password: "" },
    });
    const stored = await h.database.db.select().from(alertChannels);
    const audit = rowsOf<{ a: string; b: string }>(
      await h.database.db.execute(sql`select after_json as a, before_json as b from audit_log`),
    );
    expect(JSON.stringify([stored, audit])).not.toMatch(new RegExp(`${PASSWORD}|${SECRET}`));
    expect(stored.every((row) => row.sealedSecret?.startsWith("v1."))).toBe(true);

    const tested = await owner.testChannel({ id: hook.channel?.id });
    expect(tested).toMatchObject({ delivered: true, error: "" });
    expect(receiver.received.at(-1)).toMatchObject({ signatureValid: true, body: { status: "test" } });
    const log = await owner.listDeliveries({ channelId: hook.channel?.id });
    expect(log.deliveries.map((d) => [d.outcome, d.summary])).toEqual([
      ["delivered", `test: ${receiver.url} answered 200`],
    ]);

    receiver.mode = "fail500";
    const failed = await owner.testChannel({ id: hook.channel?.id });
    receiver.mode = "ok";
    expect(failed).toMatchObject({
      delivered: false,
      error: `${receiver.url} answered 500: receiver is down`,
    });
    expect((await owner.listDeliveries({ channelId: hook.channel?.id })).deliveries).toHaveLength(2);

    await owner.deleteChannel({ id: mail.channel?.id });
    expect((await owner.listChannels({})).channels.map((c) => c.name)).toEqual(["ops hook"]);
  });

  it("lets a viewer read alerts of its servers only, and change nothing", async () => {
    const [prod, dev] = await h.database.db
      .insert(servers)
      .values([
        { name: "prod-1", tags: { env: "prod" }, status: "active" },
        { name: "dev-1", tags: { env: "dev" }, status: "active" },
      ])
      .returning();
    const now = h.clock.now();
    for (const server of [prod, dev]) {
      await h.database.db.insert(alerts).values({
        fingerprint: `fp-${server?.name}`,
        ruleKey: "builtin:disk_used",
        ruleName: "Disk used",
        serverId: server?.id as string,
        labels: { mount: "/" },
        state: "firing",
        severity: "critical",
        value: 95,
        threshold: 90,
        summary: `disk / on ${server?.name} is 95% full`,
        action: "free space",
        episode: 1,
        pendingSince: now,
        firingSince: now,
        notifiedAt: now,
        updatedAt: now,
      });
    }
    const viewer = AlertServiceClient(
      await h.userToken("prod-viewer", [{ role: "viewer", selector: "env=prod" }]),
    );
    const seen = await viewer.listAlerts({});
    expect(seen.alerts.map((a) => [a.serverName, a.state, a.labels.mount, a.value])).toEqual([
      ["prod-1", "firing", "/", 95],
    ]);
    expect((await owner.listAlerts({})).alerts).toHaveLength(2);
    expect((await refusal(owner.listAlerts({ states: ["burning"] }))).message).toContain("states:");

    for (const call of [
      () => viewer.createRule(goodRule),
      () =>
        viewer.createChannel({
          name: "mine",
          settings: { case: "webhook", value: { url: receiver.url, secret: SECRET } },
        }),
      () => viewer.listChannels({}),
    ]) {
      const refused = await refusal(call());
      expect(refused.code).toBe(Code.PermissionDenied);
      expect(refused.message).toContain("alerts.manage");
    }
  });

  it("keeps a Slack URL sealed, shows only its host, and test-sends to it", async () => {
    const url = `${receiver.url}/services/T0/B0/slackSECRETpart`;
    const { channel } = await owner.createChannel({
      name: "ops slack",
      settings: { case: "slack", value: { url, urlHint: "" } },
      routeSelector: "env=prod",
      minSeverity: "critical",
    });
    expect(channel).toMatchObject({
      kind: "slack",
      hasSecret: true,
      routeSelector: "env=prod",
      minSeverity: "critical",
      settings: {
        case: "slack",
        value: { url: "", urlHint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/…$/) },
      },
    });
    const tested = await owner.testChannel({ id: channel?.id });
    expect(tested.delivered).toBe(true);
    expect(receiver.received.at(-1)?.path).toBe("/hooks/ocore/services/T0/B0/slackSECRETpart");
    const log = await owner.listDeliveries({ channelId: channel?.id });
    const stored = await h.database.db.select().from(alertChannels);
    const audit = await h.database.db.execute(sql`select after_json from audit_log`);
    const everything = [log, stored, audit, await owner.listChannels({})];
    expect(JSON.stringify(everything, (_, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain(
      "slackSECRETpart",
    );
  });

  it("silences, acknowledges and streams alerts live, with RBAC and bad input named", async () => {
    const [prod] = await h.database.db.select().from(servers).where(sql`${servers.name} = 'prod-1'`);
    const [alert] = await h.database.db.select().from(alerts).where(sql`${alerts.serverId} = ${prod?.id}`);
    const later = (ms: number) => timestampFromDate(new Date(h.clock.now().getTime() + ms));
    for (const [request, message] of [
      [{ selector: "env=prod", comment: "x" }, "ends_at: is required"],
      [{ selector: "env=prod", endsAt: later(60_000) }, "comment: is required"],
      [
        { endsAt: later(60_000), comment: "x" },
        "selector: give at least one of rule_key, server_id or selector",
      ],
      [
        {
          kind: "maintenance",
          ruleKey: "builtin:disk_used",
          selector: "env=prod",
          endsAt: later(60_000),
          comment: "x",
        },
        "rule_key: must be empty",
      ],
      [
        { selector: "env=prod", startsAt: later(120_000), endsAt: later(60_000), comment: "x" },
        "ends_at: must be after starts_at",
      ],
    ] as const) {
      const refused = await refusal(owner.createSilence(request));
      expect(refused.code, message).toBe(Code.InvalidArgument);
      expect(refused.message).toContain(message);
    }

    const viewer = AlertServiceClient(
      await h.userToken("prod-viewer-2", [{ role: "viewer", selector: "env=prod" }]),
    );
    expect(
      (await refusal(viewer.createSilence({ selector: "env=prod", endsAt: later(60_000), comment: "x" })))
        .code,
    ).toBe(Code.PermissionDenied);
    expect((await refusal(viewer.acknowledgeAlert({ id: alert?.id }))).code).toBe(Code.PermissionDenied);

    const abort = new AbortController();
    const stream = viewer.watchAlerts({}, { signal: abort.signal })[Symbol.asyncIterator]();
    const next = async () => (await stream.next()).value?.alerts ?? [];
    const first = await next();
    expect(first.map((a: Alert) => [a.serverName, a.silenced, a.acknowledgedBy])).toEqual([
      ["prod-1", false, ""],
    ]);

    const { silence } = await owner.createSilence({
      ruleKey: "builtin:disk_used",
      serverId: prod?.id,
      endsAt: later(3_600_000),
      comment: "resizing",
    });
    expect((await next()).map((a: Alert) => a.silenced)).toEqual([true]);
    expect((await owner.listSilences({})).silences.map((s) => [s.comment, s.createdBy])).toEqual([
      ["resizing", "admin"],
    ]);

    // Operators acknowledge the alerts of their own servers (alerts.acknowledge), no others.
    const stagingOperator = AlertServiceClient(
      await h.userToken("staging-operator", [{ role: "operator", selector: "env=staging" }]),
    );
    expect((await refusal(stagingOperator.acknowledgeAlert({ id: alert?.id }))).code).toBe(
      Code.PermissionDenied,
    );
    const operator = AlertServiceClient(
      await h.userToken("prod-operator", [{ role: "operator", selector: "env=prod" }]),
    );
    expect(
      (await refusal(operator.createSilence({ selector: "env=prod", endsAt: later(60_000), comment: "x" })))
        .code,
    ).toBe(Code.PermissionDenied);
    await operator.acknowledgeAlert({ id: alert?.id, comment: "on it" });
    expect((await next()).map((a: Alert) => a.acknowledgedBy)).toEqual(["prod-operator"]);
    h.clock.advance(1_000);
    await owner.endSilence({ id: silence?.id });
    expect((await next()).map((a: Alert) => [a.silenced, a.acknowledgedBy])).toEqual([
      [false, "prod-operator"],
    ]);
    expect((await refusal(owner.endSilence({ id: silence?.id }))).code).toBe(Code.FailedPrecondition);
    abort.abort();

    // The agent's host checks of a server: per the caller's servers, bad ids named.
    expect(await viewer.listServerChecks({ serverId: prod?.id })).toMatchObject({ checks: [], changes: [] });
    expect((await refusal(stagingOperator.listServerChecks({ serverId: prod?.id }))).code).toBe(
      Code.PermissionDenied,
    );
    const badId = await refusal(owner.listServerChecks({ serverId: "nope" }));
    expect([badId.code, badId.message]).toEqual([Code.InvalidArgument, "server_id: is not a valid id"]);
    expect(
      (await refusal(owner.listServerChecks({ serverId: prod?.id, historyLimit: 501 }))).message,
    ).toContain("history_limit");

    const actions = rowsOf<{ action: string }>(
      await h.database.db.execute(sql`select action from audit_log where action like 'alert.%' order by id`),
    ).map((row) => row.action);
    expect(actions).toEqual(
      expect.arrayContaining(["alert.silence.create", "alert.acknowledge", "alert.silence.end"]),
    );
  });
});
