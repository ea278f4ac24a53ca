import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { and, asc, eq, ne, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { listAlerts } from "../../domain/alerts/list-alerts.js";
import type { AuditContext } from "../../domain/audit/audit-context.js";
import { recordAudit } from "../../domain/audit/record-audit.js";
import type { Permission } from "../../domain/auth/permissions.js";
import { holds, holdsOn, type Principal, scopeOf } from "../../domain/auth/principal.js";
import { parseSelector } from "../../domain/auth/selector.js";
import { anySelectorCondition, selectorCondition } from "../../domain/auth/selector-sql.js";
import { type DiagnosisDeps, diagnose } from "../../domain/diagnosis/diagnose.js";
import { reportMarkdown } from "../../domain/diagnosis/report-markdown.js";
import { startRun } from "../../domain/runs/start-run.js";
import type { TemplateDeps } from "../../domain/runs/template-deps.js";
import { planHosts } from "../../domain/templates/resolve-targets.js";
import { resolveParameters } from "../../domain/templates/template-definition.js";
import { listTemplates, pickVersion } from "../../domain/templates/template-store.js";
import { alerts } from "../../platform/db/schema/alerts.js";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";

/**
 * Every MCP tool and the permission it needs: the same permissions as the API's RPCs
 * (rpc-policies.ts). A tool the caller lacks the permission for is refused and audited; a tool
 * that reads or acts on servers is limited to the servers its permission holds on.
 */
export const MCP_TOOL_PERMISSIONS = {
  list_servers: "servers.read",
  get_server_health: "servers.read",
  list_alerts: "alerts.read",
  diagnose: "diagnosis.run",
  list_templates: "templates.read",
  preview_template_run: "commands.run",
  start_template_run: "commands.run",
} as const satisfies Record<string, Permission>;

export type McpToolName = keyof typeof MCP_TOOL_PERMISSIONS;

export interface McpDeps {
  readonly diagnosis: DiagnosisDeps;
  /** Templates and runs; without them the template tools answer "unavailable". */
  readonly templates?: TemplateDeps;
}

const MAX_LIST = 200;
const text = (value: unknown): CallToolResult => ({
  content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value, null, 2) }],
});

/**
 * One MCP server for one authenticated caller (built per request: the Streamable HTTP endpoint
 * is stateless). Each tool checks the caller's permission, runs one domain function, and leaves
 * one audit entry `mcp.<tool>` (success, failure or denied). Nothing here runs free commands: a
 * run starts only from an approved template version, through the same planning as RunService.
 */
export function createMcpToolServer(deps: McpDeps, principal: Principal, audit: AuditContext): McpServer {
  const db = deps.diagnosis.db;
  const server = new McpServer({ name: "ocore", version: "1.0.0" });

  const guarded =
    <A>(tool: McpToolName, run: (args: A) => Promise<unknown>) =>
    async (args: A): Promise<CallToolResult> => {
      const permission = MCP_TOOL_PERMISSIONS[tool];
      const record = (result: "success" | "failure" | "denied", detail: string) =>
        recordAudit(
          db,
          audit,
          { action: `mcp.${tool}`, targetType: "mcp_tool", targetId: tool, result, detail, after: args },
          deps.diagnosis.now(),
        );
      if (!holds(principal, permission)) {
        await record("denied", `this needs the ${permission} permission`);
        return {
          isError: true,
          content: [{ type: "text", text: `permission denied: ${tool} needs the ${permission} permission` }],
        };
      }
      try {
        const value = await run(args);
        await record("success", "");
        return text(value);
      } catch (error) {
        if (!(error instanceof AppError) || error.code === "internal") throw error;
        await record(error.code === "permission_denied" ? "denied" : "failure", error.message);
        return {
          isError: true,
          content: [
            { type: "text", text: `${error.code}: ${error.field ? `${error.field}: ` : ""}${error.message}` },
          ],
        };
      }
    };

  const visible = (permission: Permission): SQL => {
    const scope = scopeOf(principal, permission);
    return scope.all ? sql`true` : anySelectorCondition(servers.tags, scope.selectors);
  };

  server.registerTool(
    "list_servers",
    {
      description:
        "Lists the servers you may see (optionally by a tag selector such as env=prod): id, name, status, tags, CPU/memory/disk percent.",
      inputSchema: {
        selector: z.string().max(2000).optional().describe("tag selector, e.g. env=prod,role in (web)"),
      },
    },
    guarded("list_servers", async ({ selector }: { selector?: string | undefined }) => {
      const conditions = [visible("servers.read")];
      if (selector?.trim())
        conditions.push(selectorCondition(servers.tags, parseSelector(selector, "selector")));
      const rows = await db
        .select({
          id: servers.id,
          name: servers.name,
          status: servers.status,
          tags: servers.tags,
          cpuPercent: servers.cpuPercent,
          memoryPercent: servers.memoryPercent,
          diskPercent: servers.diskPercent,
          lastSeenAt: servers.lastSeenAt,
        })
        .from(servers)
        .where(and(...conditions))
        .orderBy(asc(servers.name))
        .limit(MAX_LIST);
      return { servers: rows };
    }),
  );

  server.registerTool(
    "get_server_health",
    {
      description: "One server's health: status, last contact, newest CPU/memory/disk and its open alerts.",
      inputSchema: { server_id: z.string().describe("the server's id (list_servers)") },
    },
    guarded("get_server_health", async ({ server_id }: { server_id: string }) => {
      AppError.requireId(server_id, "server_id");
      const [row] = await db
        .select()
        .from(servers)
        .where(and(eq(servers.id, server_id), visible("servers.read")));
      if (!row)
        throw new AppError(
          "permission_denied",
          "server_id names a server you may not see (or that does not exist)",
          "server_id",
        );
      const open = holdsOn(principal, "alerts.read", row.tags)
        ? await db
            .select({
              id: alerts.id,
              rule: alerts.ruleName,
              state: alerts.state,
              severity: alerts.severity,
              summary: alerts.summary,
            })
            .from(alerts)
            .where(and(eq(alerts.serverId, row.id), ne(alerts.state, "resolved")))
        : [];
      return {
        id: row.id,
        name: row.name,
        status: row.status,
        statusMessage: row.statusMessage,
        lastSeenAt: row.lastSeenAt,
        cpuPercent: row.cpuPercent,
        memoryPercent: row.memoryPercent,
        diskPercent: row.diskPercent,
        openAlerts: open,
      };
    }),
  );

  server.registerTool(
    "list_alerts",
    {
      description:
        "Open alerts (pending, firing, unreachable) on the servers you may see, newest change first.",
      inputSchema: {},
    },
    guarded("list_alerts", async () => {
      const rows = await listAlerts(db, {
        scope: scopeOf(principal, "alerts.read"),
        includeResolved: false,
        limit: MAX_LIST,
        now: deps.diagnosis.now(),
      });
      return { alerts: rows };
    }),
  );

  server.registerTool(
    "diagnose",
    {
      description:
        "Diagnoses servers you may see: ranked findings with evidence and time windows, the alerts they explain, fixes as reviewed templates, and the reasoning chain (Markdown). Name servers by id, selector or alert.",
      inputSchema: {
        question: z.string().min(1).max(2000).describe("what is wrong, e.g. why is web-1 slow?"),
        server_ids: z.array(z.string()).max(50).optional(),
        selector: z.string().max(2000).optional(),
        alert_id: z.string().optional(),
        conversation_id: z.string().optional().describe("continue an earlier diagnosis"),
      },
    },
    guarded(
      "diagnose",
      async (args: {
        question: string;
        server_ids?: string[] | undefined;
        selector?: string | undefined;
        alert_id?: string | undefined;
        conversation_id?: string | undefined;
      }) => {
        const result = await diagnose(deps.diagnosis, principal, scopeOf(principal, "diagnosis.run"), audit, {
          question: args.question,
          targets: {
            serverIds: args.server_ids ?? [],
            selector: args.selector ?? "",
            instanceId: "",
            alertId: args.alert_id ?? "",
          },
          conversationId: args.conversation_id ?? "",
        });
        return `conversation_id: ${result.conversationId}\n\n${reportMarkdown(result.turn.question, result.turn.report, result.turn.explanation)}`;
      },
    ),
  );

  const templates = () => {
    if (!deps.templates)
      throw new AppError("unavailable", "command templates are not running in this server process");
    return deps.templates;
  };

  server.registerTool(
    "list_templates",
    {
      description: "Reviewed command templates: id, key, name, type, and whether an approved version exists.",
      inputSchema: { query: z.string().max(200).optional() },
    },
    guarded("list_templates", async ({ query }: { query?: string | undefined }) => {
      const views = await listTemplates(templates().db, query ?? "");
      return {
        templates: views.map((v) => ({
          id: v.template.id,
          key: v.template.key,
          name: (v.latest.definition as { name?: string }).name ?? "",
          type: (v.latest.definition as { type?: string }).type ?? "",
          approvedVersion: v.approved?.version ?? null,
        })),
      };
    }),
  );

  const runInput = {
    template_id: z.string(),
    parameters: z.record(z.string(), z.string()).optional(),
    server_ids: z.array(z.string()).max(1000).optional(),
    selector: z.string().max(2000).optional(),
  };
  type RunArgs = {
    template_id: string;
    parameters?: Record<string, string> | undefined;
    server_ids?: string[] | undefined;
    selector?: string | undefined;
  };
  /** How a started run takes its hosts on (as RunService/StartRun; "" = its defaults). */
  const rolloutInput = {
    max_concurrency: z.string().max(20).optional(),
    max_errors: z.string().max(20).optional(),
    canary: z.string().max(20).optional(),
    canary_pause: z.boolean().optional(),
    waves: z.string().max(200).optional(),
  };
  type RolloutArgs = {
    max_concurrency?: string | undefined;
    max_errors?: string | undefined;
    canary?: string | undefined;
    canary_pause?: boolean | undefined;
    waves?: string | undefined;
  };
  const mayRunOn = (tags: Readonly<Record<string, string>>) => holdsOn(principal, "commands.run", tags);

  server.registerTool(
    "preview_template_run",
    {
      description:
        "Shows, per target server, the exact command an approved template version would run, or why that server is refused. Runs nothing.",
      inputSchema: runInput,
    },
    guarded("preview_template_run", async (args: RunArgs) => {
      const { db: tdb } = templates();
      const version = await pickVersion(tdb, args.template_id, "", true);
      const parameters = resolveParameters(version.definition, args.parameters ?? {});
      const planned = await planHosts(tdb, {
        definition: version.definition,
        parameters,
        targets: { serverIds: args.server_ids ?? [], selector: args.selector ?? "" },
        mayRunOn,
      });
      return {
        version: version.version,
        hosts: planned.map((p) => ({
          server: p.host.name,
          refused: p.refused ?? "",
          command: p.render ? [...p.render.command] : [],
        })),
      };
    }),
  );

  server.registerTool(
    "start_template_run",
    {
      description:
        'Starts a batch run of a template\'s newest approved version on target servers (your commands.run scope only; refused servers are listed). Same rules as RunService/StartRun: max_concurrency and max_errors ("N" or "N%"), an optional canary ("N" or "N%", all must succeed; canary_pause waits for a resume) and waves ("1, 10%, rest").',
      inputSchema: { ...runInput, ...rolloutInput },
    },
    guarded("start_template_run", async (args: RunArgs & RolloutArgs) => {
      const d = templates();
      const id = await startRun(
        d.db,
        audit,
        {
          templateId: args.template_id,
          versionId: "",
          parameters: args.parameters ?? {},
          targets: { serverIds: args.server_ids ?? [], selector: args.selector ?? "" },
          maxConcurrency: args.max_concurrency ?? "",
          maxErrors: args.max_errors ?? "",
          canary: args.canary ?? "",
          canaryPause: args.canary_pause ?? false,
          waves: args.waves ?? "",
          mayRunOn,
        },
        d.now(),
      );
      d.dispatcher.kick(id);
      return { runId: id };
    }),
  );

  return server;
}
