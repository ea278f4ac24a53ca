import { Code, ConnectError } from "@connectrpc/connect";
import { AuditService } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { RunService } from "@ocore/proto/gen/ocore/api/v1/run_service_pb.js";
import { TemplateService } from "@ocore/proto/gen/ocore/api/v1/template_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { servers } from "../../platform/db/schema/servers.js";

/**
 * Ad-hoc commands through the API (decision 0231): the stricter permission, the deny list and
 * its explanations, the run and its audit entry with the whole script, and the ways around the
 * permission that are closed (StartRun and RerunFailed of an ad-hoc command's holder).
 */
describe("RunService ad-hoc commands", () => {
  let h: ApiHarness;
  let admin: string;
  let operator: string;
  let limited: string;
  let prod = "";
  let dev = "";

  const failure = async (call: Promise<unknown>) =>
    ConnectError.from(
      await call.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );

  beforeAll(async () => {
    h = await createApiHarness("pglite");
    const rows = await h.database.db
      .insert(servers)
      .values([
        { name: "prod-1", status: "offline", tags: { env: "prod" } },
        { name: "dev-1", status: "offline", tags: { env: "dev" } },
      ])
      .returning();
    [prod, dev] = rows.map((r) => r.id) as [string, string];
    admin = await h.userToken("adhoc-admin", [{ role: "admin", selector: "" }]);
    operator = await h.userToken("adhoc-operator", [{ role: "operator", selector: "" }]);
    // commands.adhoc held only on env=dev (the admin role's permissions, bound to a selector).
    limited = await h.userToken("adhoc-dev", [{ role: "admin", selector: "env=dev" }]);
  }, 60_000);
  afterAll(() => h?.close());

  it("needs commands.adhoc: an operator (commands.run) is refused, and audited as refused", async () => {
    const error = await failure(
      h.client(RunService, operator).startAdhocRun({ script: "uptime", targets: { serverIds: [prod] } }),
    );
    expect(error.code).toBe(Code.PermissionDenied);
    expect(error.rawMessage).toContain("commands.adhoc");
  });

  it("refuses a denied script naming the rule, the line, why and what to do instead; nothing runs", async () => {
    const before = (await h.client(RunService, admin).listRuns({})).runs.length;
    const error = await failure(
      h.client(RunService, admin).startAdhocRun({
        script: "set -e\nrm -rf /\n",
        targets: { serverIds: [prod] },
      }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe(
      'script: refused by the deny list, rule recursive-delete-of-system-path: "rm -rf /" deletes the root or a system directory recursively, which destroys the host; instead: delete the exact path you mean (e.g. /var/log/app/old), or write a reviewed template',
    );
    expect((await h.client(RunService, admin).listRuns({})).runs).toHaveLength(before);

    const check = await h.client(RunService, admin).checkAdhocCommand({ script: "reboot\ncrontab -r" });
    expect(check.violations.map((v) => [v.rule?.id, v.excerpt])).toEqual([
      ["power-off-or-reboot", "reboot"],
      ["erase-crontab", "crontab -r"],
    ]);
    expect(check.rules.length).toBeGreaterThan(10);
    expect((await h.client(RunService, admin).checkAdhocCommand({ script: "df -h" })).violations).toEqual([]);
    const big = await failure(
      h.client(RunService, admin).checkAdhocCommand({ script: "x".repeat(17 * 1024) }),
    );
    expect(big.code).toBe(Code.InvalidArgument);
  });

  it("runs an allowed script as a run (sandbox and rate control as templates), audited run.adhoc with the script", async () => {
    const started = await h.client(RunService, admin).startAdhocRun({
      script: "df -h /",
      targets: { selector: "env in (prod,dev)" },
      maxErrors: "0",
      canary: "1",
    });
    await h.dispatcher.idle();
    const run = await h.client(RunService, admin).getRun({ id: started.run?.id });
    expect(run.run?.templateName).toBe("ad-hoc: df -h /");
    expect(run.run?.canary).toBe(1);
    // The hosts are offline here: the canary is unreachable, so the run stops before the other host.
    expect(run.run?.state).toBe("stopped");
    expect(run.hosts.map((x) => x.state).sort()).toEqual(["skipped", "unreachable"]);
    const audit = await h.client(AuditService, admin).listAuditEntries({ filter: { action: "run.adhoc" } });
    const entry = audit.entries.find((e) => e.targetId === started.run?.id);
    expect(entry?.actorName).toBe("adhoc-admin");
    expect(JSON.parse(entry?.afterJson ?? "{}")).toMatchObject({ script: "df -h /", canary: 1, hosts: 2 });

    // Its holder is no template anyone lists, and StartRun (commands.run) cannot run it.
    const templates = await h.client(TemplateService, admin).listTemplates({});
    expect(templates.templates.some((t) => t.key.startsWith("adhoc."))).toBe(false);
    const viaStart = await failure(
      h
        .client(RunService, admin)
        .startRun({ templateId: run.run?.templateId, targets: { serverIds: [prod] } }),
    );
    expect(viaStart.code).toBe(Code.FailedPrecondition);
    expect(viaStart.rawMessage).toContain("run it with StartAdhocRun (commands.adhoc)");
    // Nor can an operator re-run its failed host: that needs commands.adhoc on the host.
    const rerun = await failure(h.client(RunService, operator).rerunFailed({ id: started.run?.id }));
    expect(rerun.code).toBe(Code.InvalidArgument);
    expect(rerun.rawMessage).toContain("targets: every target is refused");
    const again = await h.client(RunService, admin).rerunFailed({ id: started.run?.id });
    await h.dispatcher.idle();
    const reran = await h.client(AuditService, admin).listAuditEntries({ filter: { action: "run.adhoc" } });
    expect(reran.entries.some((e) => e.targetId === again.run?.id)).toBe(true);
  });

  it("takes only the hosts where the caller holds commands.adhoc; the others are listed as refused", async () => {
    const started = await h.client(RunService, limited).startAdhocRun({
      script: "uptime",
      targets: { serverIds: [prod, dev] },
    });
    await h.dispatcher.idle();
    const view = await h.client(RunService, admin).getRun({ id: started.run?.id });
    const byName = Object.fromEntries(view.hosts.map((x) => [x.serverName, x]));
    expect(byName["dev-1"]?.state).toBe("unreachable");
    expect(byName["prod-1"]?.state).toBe("refused");
    expect(byName["prod-1"]?.reason).toContain("commands");
  });
});
