import { Code, ConnectError } from "@connectrpc/connect";
import { AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
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
      [{ name: "x" }, "settings: give exactly one of email or webhook"],
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
      viewer.createRule(goodRule),
      viewer.createChannel({
        name: "mine",
        settings: { case: "webhook", value: { url: receiver.url, secret: SECRET } },
      }),
      viewer.listChannels({}),
    ]) {
      const refused = await refusal(call);
      expect(refused.code).toBe(Code.PermissionDenied);
      expect(refused.message).toContain("alerts.manage");
    }
  });
});
