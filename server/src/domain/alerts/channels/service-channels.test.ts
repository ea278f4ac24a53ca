import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebhookReceiver, type WebhookReceiver } from "../../../../test/support/webhook-receiver.js";
import type { AlertRow } from "../alert-transition.js";
import { groupMessage, testMessage } from "../notification-message.js";
import type { ChannelSettings } from "./channel-config.js";
import { type ChannelSettingsInput, checkChannelSettings } from "./check-channel-settings.js";
import { deliver } from "./deliver.js";

const TOKEN = "123456789:AAH-secret-bot-token-abcdefghijkl";
const ROUTING_KEY = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey12";

function alertRow(changes: Partial<AlertRow>): AlertRow {
  const at = new Date("2026-12-07T12:00:00Z");
  return {
    id: "a1",
    fingerprint: "fp-disk",
    ruleKey: "builtin:disk_used",
    ruleName: "Disk used",
    serverId: "s1",
    labels: { mount: "/" },
    state: "firing",
    severity: "critical",
    value: 93.4,
    threshold: 90,
    summary: "disk / on db-1 is 93.4% full (critical at 90%)",
    action: "Free space on / of db-1",
    episode: 1,
    pendingSince: at,
    firingSince: at,
    notifiedAt: at,
    clearSince: null,
    resolvedAt: null,
    updatedAt: at,
    ...changes,
  };
}

const firing = groupMessage(
  { seq: 1, kind: "change", firing: [alertRow({})], resolved: [], flapping: [] },
  { id: "s1", name: "db-1" },
  new Date("2026-12-07T12:01:00Z"),
);
const resolved = groupMessage(
  { seq: 2, kind: "change", firing: [], resolved: [alertRow({ state: "resolved" })], flapping: [] },
  { id: "s1", name: "db-1" },
  new Date("2026-12-07T12:09:00Z"),
);

/** Each service's format, posted to a real HTTP receiver standing in for the service. */
describe("chat and paging channels", () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver("unused-signing-secret");
  });
  afterAll(async () => {
    await receiver?.close();
  });

  async function send(input: ChannelSettingsInput, message = firing) {
    const settings: ChannelSettings = checkChannelSettings(input);
    const before = receiver.received.length;
    const summary = await deliver({ id: "c1", name: "chan", settings }, message, 2_000);
    return { summary, requests: receiver.received.slice(before), settings };
  }

  it("Slack, Discord and Teams get their own JSON; the URL is the secret and only its host is shown", async () => {
    const slack = await send({ slack: { url: `${receiver.url}/services/T0/B0/xyzSECRET` } });
    expect(slack.settings.config).toEqual({ urlHint: `http://127.0.0.1:${new URL(receiver.url).port}/…` });
    expect(slack.summary).not.toContain("xyzSECRET");
    expect(slack.requests[0]?.path).toBe("/hooks/ocore/services/T0/B0/xyzSECRET");
    expect(slack.requests[0]?.body).toMatchObject({
      text: firing.title,
      blocks: [{ type: "header" }, { type: "section", text: { type: "mrkdwn" } }],
    });
    expect(JSON.stringify(slack.requests[0]?.body)).toContain("What to do: Free space on / of db-1");

    const discord = await send({ discord: { url: `${receiver.url}/api/webhooks/1/tok` } }, resolved);
    expect(discord.requests[0]?.body).toMatchObject({
      content: resolved.title,
      embeds: [{ title: resolved.title, color: 0x2e7d32 }],
    });

    const teams = await send({ teams: { url: `${receiver.url}/workflows/abc` } });
    expect(teams.requests[0]?.body).toMatchObject({
      type: "message",
      attachments: [
        { contentType: "application/vnd.microsoft.card.adaptive", content: { type: "AdaptiveCard" } },
      ],
    });
  });

  it("Telegram posts sendMessage to the bot's path; ntfy publishes JSON with a priority and the token", async () => {
    const telegram = await send({
      telegram: { botToken: TOKEN, chatId: "-1001234567890", apiUrl: receiver.url },
    });
    expect(telegram.requests[0]?.path).toBe(`/hooks/ocore/bot${TOKEN}/sendMessage`);
    expect(telegram.requests[0]?.body).toMatchObject({ chat_id: "-1001234567890" });
    expect(String(telegram.requests[0]?.body.text)).toContain("FIRING [critical] disk / on db-1");
    expect(telegram.summary).not.toContain(TOKEN);

    const ntfy = await send({ ntfy: { serverUrl: receiver.url, topic: "ops-alerts", token: "tk_abc" } });
    expect(ntfy.requests[0]?.body).toMatchObject({ topic: "ops-alerts", title: firing.title, priority: 5 });
    expect(ntfy.requests[0]?.headers.authorization).toBe("Bearer tk_abc");
  });

  it("PagerDuty gets one trigger per firing alert and a resolve with the same dedup key", async () => {
    const pd = { pagerduty: { routingKey: ROUTING_KEY, apiUrl: `${receiver.url}/v2/enqueue` } };
    const trigger = await send(pd);
    const resolve = await send(pd, resolved);
    expect(trigger.requests.map((r) => r.body)).toMatchObject([
      {
        routing_key: ROUTING_KEY,
        event_action: "trigger",
        dedup_key: "ocore-fp-disk",
        payload: { severity: "critical", source: "db-1", component: "Disk used" },
      },
    ]);
    expect(resolve.requests.map((r) => r.body)).toEqual([
      { routing_key: ROUTING_KEY, event_action: "resolve", dedup_key: "ocore-fp-disk" },
    ]);
    const test = await send(pd, testMessage("pd", new Date(), "n1"));
    expect(test.requests.map((r) => r.body.event_action)).toEqual(["trigger", "resolve"]);
  });

  it("a service that answers 4xx fails the send without the secret in the error", async () => {
    receiver.mode = "fail500";
    try {
      await expect(send({ slack: { url: `${receiver.url}/services/xyzSECRET` } })).rejects.toThrow(
        /^Slack \(http:\/\/127\.0\.0\.1:\d+\/…\) answered 500: receiver is down$/,
      );
      await expect(
        send({ telegram: { botToken: TOKEN, chatId: "@opsalerts", apiUrl: receiver.url } }),
      ).rejects.toThrow(
        /Telegram \(http:\/\/127\.0\.0\.1:\d+\/hooks\/ocore\/bot…\/sendMessage\) answered 500/,
      );
    } finally {
      receiver.mode = "ok";
    }
  });

  it("refuses bad settings naming the field", () => {
    const fieldOf = (input: ChannelSettingsInput) => {
      try {
        checkChannelSettings(input);
        return "ok";
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(fieldOf({ slack: { url: "hooks.slack.com" } })).toMatch(/^slack\.url: is not a URL/);
    expect(fieldOf({ teams: { url: "ftp://x/" } })).toMatch(/^teams\.url: scheme "ftp:"/);
    expect(fieldOf({ telegram: { botToken: "nope", chatId: "1", apiUrl: "" } })).toMatch(
      /^telegram\.bot_token:/,
    );
    expect(fieldOf({ telegram: { botToken: TOKEN, chatId: "x y", apiUrl: "" } })).toMatch(
      /^telegram\.chat_id:/,
    );
    expect(fieldOf({ ntfy: { serverUrl: "", topic: "a/b", token: "" } })).toMatch(/^ntfy\.topic:/);
    expect(fieldOf({ pagerduty: { routingKey: "short", apiUrl: "" } })).toMatch(/^pagerduty\.routing_key:/);
    expect(fieldOf({ pagerduty: { routingKey: ROUTING_KEY, apiUrl: "" } })).toBe("ok");
    expect(fieldOf({})).toMatch(/^settings: give exactly one of email, webhook, slack/);
  });
});
