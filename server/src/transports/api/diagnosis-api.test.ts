import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { DiagnosisService } from "@ocore/proto/gen/ocore/api/v1/diagnosis_service_pb.js";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { ensureBuiltinTemplates } from "../../domain/templates/builtin-templates.js";
import { createChatCompletionsExplainer } from "../../platform/ai/chat-completions-explainer.js";
import { alerts } from "../../platform/db/schema/alerts.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { metricSamples } from "../../platform/db/schema/metrics.js";
import { servers } from "../../platform/db/schema/servers.js";

const GIB = 2 ** 30;
const MINUTE = 60_000;

async function refusal(call: Promise<unknown>): Promise<{ code: Code; message: string }> {
  const error = ConnectError.from(await call.then(() => undefined).catch((caught: unknown) => caught));
  return { code: error.code, message: error.rawMessage };
}

/** web-1 (env=prod) whose / fills from 60 % to 97 % in the last hour; db-1 (env=dev) healthy. */
async function seed(h: ApiHarness) {
  const db = h.database.db;
  const now = h.clock.now();
  await ensureBuiltinTemplates(db, now);
  const [web] = await db
    .insert(servers)
    .values({ name: "web-1", host: "10.0.0.5", status: "active", tags: { env: "prod" }, lastSeenAt: now })
    .returning();
  const [dbServer] = await db
    .insert(servers)
    .values({ name: "db-1", host: "10.0.0.6", status: "active", tags: { env: "dev" }, lastSeenAt: now })
    .returning();
  if (!web || !dbServer) throw new Error("no servers");
  for (const server of [web, dbServer]) {
    const rows = Array.from({ length: 120 }, (_, i) => {
      const at = new Date(now.getTime() - (120 - i) * MINUTE);
      const rootPercent = server === web && i >= 60 ? 60 + ((i - 60) * 37) / 59 : 41;
      const total = 100 * GIB;
      const used = (rootPercent / 100) * total;
      return {
        serverId: server.id,
        sequence: i + 1,
        collectedAt: at,
        receivedAt: at,
        cpuPercent: 15,
        load1: 0.3,
        load5: 0.3,
        load15: 0.3,
        cpuCores: 2,
        memoryTotal: 8 * GIB,
        memoryUsed: 3 * GIB,
        memoryAvailable: 5 * GIB,
        memoryActive: 2 * GIB + (i % 5) * 2 ** 20,
        swapTotal: 0,
        swapUsed: 0,
        diskUsedPercent: rootPercent,
        diskReadBps: 0,
        diskWriteBps: 0,
        netRxBps: 0,
        netTxBps: 0,
        tcpConnections: 10,
        containersRunning: 1,
        detail: {
          cores: [15, 15],
          fs: [["/", "/dev/sda1", "ext4", total, used, total - used] as const],
          disks: [],
          nics: [],
          containers: [["c1", "odoo", "running", 5, GIB, 2 * GIB] as const],
        },
      };
    });
    await db.insert(metricSamples).values(rows);
  }
  const [alert] = await db
    .insert(alerts)
    .values({
      fingerprint: "f-web-disk",
      ruleKey: "builtin:disk_used",
      ruleName: "Disk used",
      serverId: web.id,
      labels: { mount: "/" },
      state: "firing",
      severity: "critical",
      value: 97,
      threshold: 95,
      summary: "disk / on web-1 (10.0.0.5) is 97 % full",
      action: "free space",
      pendingSince: new Date(now.getTime() - 10 * MINUTE),
      firingSince: new Date(now.getTime() - 9 * MINUTE),
      updatedAt: now,
    })
    .returning();
  return { web, dbServer, alertId: alert?.id ?? "" };
}

describe("DiagnosisService without a language model", () => {
  let h: ApiHarness;
  let ids: Awaited<ReturnType<typeof seed>>;
  beforeAll(async () => {
    h = await createApiHarness("pglite");
    ids = await seed(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("names the full disk with its mount, crossing time, alert and cleanup template, and keeps a conversation", async () => {
    const client = h.client(DiagnosisService, await h.ownerToken());
    const { conversationId, turn } = await client.diagnose({
      question: "why is web-1 slow?",
      serverIds: [ids.web.id],
    });
    const report = turn?.report;
    const top = report?.findings[0];
    expect(top).toMatchObject({ analyzer: "disk_full", serverName: "web-1" });
    expect(top?.title).toMatch(/^Disk \/ is 97 % full$/);
    expect(top?.evidence.map((e) => e.label)).toContain("crossed 90 %");
    expect(top?.alertIds).toEqual([ids.alertId]);
    expect(report?.alerts.map((a) => a.id)).toEqual([ids.alertId]);
    const fix = report?.remediation[0];
    expect(fix?.templateKey).toBe("builtin.disk-usage");
    expect(fix?.templateId).toMatch(/^[0-9a-f-]{36}$/);
    expect(report?.steps.length).toBeGreaterThanOrEqual(8);
    expect(report?.steps.some((s) => s.outcome === "ruled_out")).toBe(true);
    expect(turn?.markdown).toContain("## Reasoning");
    expect(turn?.explanation).toBe("");

    // A follow-up inherits the servers and window.
    const follow = await client.diagnose({ question: "and the memory?", conversationId });
    expect(follow.conversationId).toBe(conversationId);
    expect(follow.turn?.position).toBe(2);
    expect(follow.turn?.report?.findings[0]?.serverName).toBe("web-1");
    const conversation = await client.getConversation({ id: conversationId });
    expect(conversation.turns.map((t) => t.question)).toEqual(["why is web-1 slow?", "and the memory?"]);
    expect((await client.listConversations({})).conversations.map((c) => c.id)).toContain(conversationId);

    const audited = await h.database.db.select().from(auditLog).where(eq(auditLog.action, "diagnosis.run"));
    expect(audited.length).toBe(2);
    expect(audited[0]?.targetId).toBe(conversationId);
  });

  it("finds the server named in the question when no other target is given", async () => {
    const client = h.client(DiagnosisService, await h.ownerToken());
    const { turn } = await client.diagnose({ question: "why is web-1 slow?" });
    expect(turn?.report?.baselines.map((b) => b.serverName)).toEqual(["web-1"]);
    expect(turn?.report?.findings[0]?.analyzer).toBe("disk_full");
  });

  it("diagnoses an alert's server around the time it started", async () => {
    const client = h.client(DiagnosisService, await h.ownerToken());
    const { turn } = await client.diagnose({ question: "diagnose this alert", alertId: ids.alertId });
    expect(turn?.report?.findings[0]?.analyzer).toBe("disk_full");
  });

  it("only reads servers the caller may see, and only the caller's conversations", async () => {
    const devViewer = await h.userToken("dev-viewer", [{ role: "viewer", selector: "env=dev" }]);
    const client = h.client(DiagnosisService, devViewer);
    const named = await refusal(client.diagnose({ question: "why?", serverIds: [ids.web.id] }));
    expect(named.code).toBe(Code.PermissionDenied);
    expect(named.message).toContain("server_ids names a server you may not diagnose");
    const viaAlert = await refusal(client.diagnose({ question: "why?", alertId: ids.alertId }));
    expect(viaAlert.code).toBe(Code.PermissionDenied);
    const selected = await refusal(client.diagnose({ question: "why?", selector: "env=prod" }));
    expect(selected.code).toBe(Code.InvalidArgument);
    const own = await client.diagnose({ question: "is db-1 fine?", selector: "env in (dev, prod)" });
    expect(own.turn?.report?.baselines.map((b) => b.serverName)).toEqual(["db-1"]);
    expect(own.turn?.report?.findings).toEqual([]);

    const ownerConversations = await h.client(DiagnosisService, await h.ownerToken()).listConversations({});
    const foreign = ownerConversations.conversations[0]?.id ?? "";
    expect((await refusal(client.getConversation({ id: foreign }))).code).toBe(Code.NotFound);
    expect((await refusal(client.diagnose({ question: "more", conversationId: foreign }))).code).toBe(
      Code.NotFound,
    );
    expect((await client.listConversations({})).conversations.map((c) => c.id)).toEqual([own.conversationId]);
  });

  it("refuses bad input with the field named", async () => {
    const client = h.client(DiagnosisService, await h.ownerToken());
    expect((await refusal(client.diagnose({ question: " ", serverIds: [ids.web.id] }))).message).toContain(
      "question: is required",
    );
    expect((await refusal(client.diagnose({ question: "x" }))).code).toBe(Code.InvalidArgument);
    expect((await refusal(client.diagnose({ question: "x", serverIds: ["nope"] }))).message).toContain(
      "server_ids.0",
    );
  });
});

describe("DiagnosisService with an OpenAI-compatible model (a scripted stand-in)", () => {
  let h: ApiHarness;
  let ids: Awaited<ReturnType<typeof seed>>;
  let model: Server;
  const requests: string[] = [];
  beforeAll(async () => {
    model = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        requests.push(body);
        if (request.url !== "/v1/chat/completions" || request.headers.authorization !== "Bearer test-key") {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            choices: [
              {
                message: {
                  role: "assistant",
                  content: "server-1's / filled up; run the disk usage report first.",
                },
              },
            ],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => model.listen(0, "127.0.0.1", resolve));
    const port = (model.address() as AddressInfo).port;
    h = await createApiHarness("pglite", {
      diagnosis: {
        anonymize: true,
        explainer: createChatCompletionsExplainer({
          endpoint: `http://127.0.0.1:${port}/v1`,
          model: "scripted",
          apiKey: "test-key",
          timeoutMs: 10_000,
        }),
      },
    });
    ids = await seed(h);
  });
  afterAll(async () => {
    await h?.close();
    await new Promise((resolve) => model?.close(resolve));
  });

  it("explains the report from anonymized data the caller may see, and maps the names back", async () => {
    const client = h.client(DiagnosisService, await h.ownerToken());
    const { turn } = await client.diagnose({ question: "why is web-1 slow?", serverIds: [ids.web.id] });
    expect(turn?.explanation).toBe("web-1's / filled up; run the disk usage report first.");
    expect(turn?.report?.findings[0]?.analyzer).toBe("disk_full");
    const sent = requests.at(-1) ?? "";
    expect(sent).toContain("server-1");
    expect(sent).toContain("Disk / is 97 % full");
    expect(sent).not.toContain("web-1");
    expect(sent).not.toContain("10.0.0.5");
    expect(sent).not.toContain("db-1");
    expect(sent).not.toContain(ids.web.id);
    expect(JSON.parse(sent).tools).toBeUndefined();
  });

  it("keeps the report when the model fails", async () => {
    await new Promise((resolve) => model.close(resolve));
    const client = h.client(DiagnosisService, await h.ownerToken());
    const { turn } = await client.diagnose({ question: "why is web-1 slow?", serverIds: [ids.web.id] });
    expect(turn?.report?.findings[0]?.analyzer).toBe("disk_full");
    expect(turn?.explanation).toMatch(/could not be reached/);
  });
});
