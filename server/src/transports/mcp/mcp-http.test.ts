import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ApiTokenService } from "@ocore/proto/gen/ocore/api/v1/api_token_service_pb.js";
import { and, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { ensureBuiltinTemplates } from "../../domain/templates/builtin-templates.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { servers } from "../../platform/db/schema/servers.js";
import {
  commandRuns,
  commandTemplates,
  commandTemplateVersions,
} from "../../platform/db/schema/templates.js";
import { MCP_TOOL_PERMISSIONS } from "./mcp-tools.js";

type ToolResult = { isError?: boolean; content: Array<{ type: string; text?: string }> };
const textOf = (result: unknown) => ((result as ToolResult).content[0]?.text ?? "") as string;

describe("the MCP endpoint (Streamable HTTP, the SDK's own client)", () => {
  let h: ApiHarness;
  let http: Server;
  let url: URL;
  let adminToken: string;
  let viewerToken: string;
  let webId: string;
  let diskUsageId: string;

  beforeAll(async () => {
    h = await createApiHarness("pglite");
    await ensureBuiltinTemplates(h.database.db, h.clock.now());
    const [web] = await h.database.db
      .insert(servers)
      .values({ name: "web-1", status: "active", tags: { env: "prod" }, lastSeenAt: h.clock.now() })
      .returning();
    await h.database.db.insert(servers).values({ name: "db-1", status: "active", tags: { env: "dev" } });
    webId = web?.id ?? "";
    const [template] = await h.database.db
      .select()
      .from(commandTemplates)
      .where(eq(commandTemplates.key, "builtin.disk-usage"));
    diskUsageId = template?.id ?? "";
    // Built-in templates arrive pending review like any other; this test is about MCP, not review.
    await h.database.db
      .update(commandTemplateVersions)
      .set({ reviewState: "approved", reviewerName: "test" })
      .where(eq(commandTemplateVersions.templateId, diskUsageId));
    const tokens = h.client(ApiTokenService, await h.ownerToken());
    adminToken = (await tokens.createApiToken({ name: "mcp-admin", role: "admin", selector: "" })).secret;
    viewerToken = (await tokens.createApiToken({ name: "mcp-viewer", role: "viewer", selector: "env=prod" }))
      .secret;
    http = createServer((request, response) => {
      const path = (request.url ?? "/").split("?")[0] ?? "/";
      const route = h.api.prefixRoutes.find(([prefix]) => path.startsWith(prefix));
      if (route) route[1](request, response);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    url = new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`);
  });
  afterAll(async () => {
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
    await h?.close();
  });

  async function connect(token: string) {
    const client = new Client({ name: "ocore-test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    return client;
  }

  it("answers 401 with WWW-Authenticate and serves the protected-resource metadata", async () => {
    const refused = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(refused.status).toBe(401);
    const challenge = refused.headers.get("www-authenticate") ?? "";
    expect(challenge).toMatch(
      /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/,
    );
    const bad = await fetch(url, { method: "POST", headers: { authorization: "Bearer nope" }, body: "{}" });
    expect(bad.status).toBe(401);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1] ?? "";
    const metadata = (await (await fetch(metadataUrl)).json()) as { resource: string };
    expect(metadata.resource).toBe(url.href);
  });

  it("lists the tools, and an admin token lists servers, diagnoses and starts a reviewed template run", async () => {
    const client = await connect(adminToken);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(Object.keys(MCP_TOOL_PERMISSIONS).sort());
    const listed = JSON.parse(textOf(await client.callTool({ name: "list_servers", arguments: {} }))) as {
      servers: { name: string }[];
    };
    expect(listed.servers.map((s) => s.name)).toEqual(["db-1", "web-1"]);
    const report = textOf(
      await client.callTool({
        name: "diagnose",
        arguments: { question: "why is web-1 slow?", server_ids: [webId] },
      }),
    );
    expect(report).toContain("# Diagnosis: why is web-1 slow?");
    expect(report).toContain("## Reasoning");
    const preview = JSON.parse(
      textOf(
        await client.callTool({
          name: "preview_template_run",
          arguments: { template_id: diskUsageId, server_ids: [webId] },
        }),
      ),
    );
    expect(preview.hosts[0]).toMatchObject({ server: "web-1", refused: "" });
    // A bad rollout is refused naming its field, as through the API.
    const badWaves = (await client.callTool({
      name: "start_template_run",
      arguments: { template_id: diskUsageId, server_ids: [webId], waves: "rest, 1" },
    })) as ToolResult;
    expect(badWaves.isError).toBe(true);
    expect(textOf(badWaves)).toContain('"rest" can only be the last size');
    const started = await client.callTool({
      name: "start_template_run",
      arguments: { template_id: diskUsageId, server_ids: [webId], max_concurrency: "1", waves: "1" },
    });
    expect((started as ToolResult).isError).toBeFalsy();
    const stored = await h.database.db.select().from(commandRuns);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ concurrency: 1, waveSizes: [1] });
    await client.close();
  });

  it("a viewer token sees only its scope, can diagnose, and cannot start a run (refused and audited)", async () => {
    const client = await connect(viewerToken);
    const listed = JSON.parse(textOf(await client.callTool({ name: "list_servers", arguments: {} }))) as {
      servers: { name: string }[];
    };
    expect(listed.servers.map((s) => s.name)).toEqual(["web-1"]);
    const report = textOf(
      await client.callTool({
        name: "diagnose",
        arguments: { question: "disk?", selector: "env in (prod, dev)" },
      }),
    );
    expect(report).toContain("web-1");
    expect(report).not.toContain("db-1");
    const runs = (await h.database.db.select().from(commandRuns)).length;
    const refused = (await client.callTool({
      name: "start_template_run",
      arguments: { template_id: diskUsageId, server_ids: [webId] },
    })) as ToolResult;
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("needs the commands.run permission");
    expect(await h.database.db.select().from(commandRuns)).toHaveLength(runs);
    const denied = await h.database.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.action, "mcp.start_template_run"),
          eq(auditLog.result, "denied"),
          like(auditLog.actorName, "mcp-viewer"),
        ),
      );
    expect(denied).toHaveLength(1);
    const calls = await h.database.db
      .select()
      .from(auditLog)
      .where(and(like(auditLog.action, "mcp.%"), eq(auditLog.actorName, "mcp-viewer")));
    expect(calls.map((c) => c.action).sort()).toEqual([
      "mcp.diagnose",
      "mcp.list_servers",
      "mcp.start_template_run",
    ]);
    await client.close();
  });

  it("serves the same tools over stdio through `ocore admin mcp-stdio`, under the token's role", async () => {
    const client = new Client({ name: "ocore-stdio-test", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: fileURLToPath(new URL("../../../../node_modules/.bin/tsx", import.meta.url)),
        args: [fileURLToPath(new URL("../../cli/admin.ts", import.meta.url)), "mcp-stdio", url.origin],
        env: { PATH: process.env.PATH ?? "", OCORE_MCP_TOKEN: viewerToken },
        stderr: "pipe",
      }),
    );
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("diagnose");
    const listed = JSON.parse(textOf(await client.callTool({ name: "list_servers", arguments: {} }))) as {
      servers: { name: string }[];
    };
    expect(listed.servers.map((s) => s.name)).toEqual(["web-1"]);
    const refused = (await client.callTool({
      name: "start_template_run",
      arguments: { template_id: diskUsageId, server_ids: [webId] },
    })) as ToolResult;
    expect(refused.isError).toBe(true);
    await client.close();
  }, 120_000);
});
