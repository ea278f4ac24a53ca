import { Code, ConnectError } from "@connectrpc/connect";
import { AuditService } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { RunService } from "@ocore/proto/gen/ocore/api/v1/run_service_pb.js";
import { TemplateService } from "@ocore/proto/gen/ocore/api/v1/template_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { servers } from "../../platform/db/schema/servers.js";

const facts = (architecture: string, hostname: string) => ({
  hostname,
  osId: "debian",
  osVersion: "12",
  kernel: "6.1.0",
  architecture,
  cpuCores: 4,
  memoryTotalBytes: 8 * 1024 ** 3,
  bootedAt: null,
});

/** A definition as the console sends it (every field, as protobuf-es fills them). */
const definition = (overrides: Record<string, unknown> = {}) => ({
  name: "disk report for {arch}",
  type: "diagnostic",
  scope: "env in (prod,dev)",
  description: "df for one path",
  examples: [{ title: "root", parameters: { path: "/" }, note: "the root filesystem" }],
  interpreter: "bash",
  script: 'df -h -- "$1"; echo "$OCORE_PARAM_PATH"',
  argv: ["{path}", "{tag.env}"],
  env: { REPORT_HOST: "{hostname}" },
  runAs: "nobody",
  timeoutSeconds: 60,
  memoryMaxMb: 64,
  cpuQuotaPercent: 50,
  tasksMax: 16,
  writePaths: [],
  parameters: [
    { name: "path", type: "string", required: true, pattern: "/.*", description: "a path" },
    { name: "unit", type: "enum", allowedValues: ["human", "bytes"], defaultValue: "human" },
    { name: "depth", type: "integer", min: 1n, max: 5n, defaultValue: "1" },
  ],
  ...overrides,
});

describe("TemplateService and RunService: templates, review, preview", () => {
  let h: ApiHarness;
  let author: string;
  let reviewer: string;
  let viewer: string;
  let amd: string;
  let arm: string;
  let staging: string;
  let other: string;

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
        { name: "amd-1", status: "active", tags: { env: "prod" }, facts: facts("amd64", "amd-1.example") },
        { name: "arm-1", status: "active", tags: { env: "prod" }, facts: facts("arm64", "arm-1.example") },
        { name: "stage-1", status: "active", tags: { env: "staging" }, facts: facts("amd64", "stage-1") },
        { name: "dev-1", status: "active", tags: { env: "dev" }, facts: facts("amd64", "dev-1") },
      ])
      .returning();
    [amd, arm, staging, other] = rows.map((r) => r.id) as [string, string, string, string];
    author = await h.userToken("author", [{ role: "operator", selector: "env=prod" }]);
    reviewer = await h.userToken("reviewer", [{ role: "admin", selector: "" }]);
    viewer = await h.userToken("viewer", [{ role: "viewer", selector: "" }]);
  }, 60_000);
  afterAll(() => h?.close());

  it("refuses bad definitions naming the field", async () => {
    const templates = h.client(TemplateService, author);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ argv: ["{nope}"] }, "definition.argv.0: unknown placeholder {nope}"],
      [{ argv: ["{path"] }, "definition.argv.0: has a malformed placeholder"],
      [{ env: { LD_PRELOAD: "/x.so" } }, "definition.env.LD_PRELOAD"],
      [{ interpreter: "perl" }, "definition.interpreter: must be one of bash, sh, python3"],
      [{ scope: "env in (" }, "definition.scope"],
      [{ timeoutSeconds: 0 }, "definition.timeout_seconds: must be at least 1"],
      [{ writePaths: ["/var/../etc"] }, "definition.write_paths.0"],
      [{ parameters: [{ name: "n", type: "integer", min: 0n, max: 0n }] }, "definition.parameters.0.max"],
      [{ parameters: [{ name: "p", type: "string", pattern: "(" }] }, "definition.parameters.0.pattern"],
      [{ parameters: [{ name: "e", type: "enum" }] }, "definition.parameters.0.allowed_values"],
      [
        { examples: [{ title: "x", parameters: { path: "relative" }, note: "" }] },
        "definition.examples.0.parameters.path",
      ],
    ];
    for (const [overrides, message] of cases) {
      const error = await failure(
        templates.createTemplate({ key: "bad", definition: definition(overrides) }),
      );
      expect(error.code, message).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toContain(message);
    }
  });

  it("runs a version only after a second person with templates.approve approved its hash; runs keep their version", async () => {
    const created = await h
      .client(TemplateService, author)
      .createTemplate({ key: "disk-report", definition: definition() });
    const template = created.template;
    const v1 = template?.latest;
    expect(v1).toMatchObject({
      version: 1,
      reviewState: "pending",
      author: "author",
      placeholders: ["arch", "hostname", "path", "tag.env"],
    });
    const id = template?.id ?? "";
    const runs = h.client(RunService, author);
    const start = (versionId = "") =>
      runs.startRun({
        templateId: id,
        versionId,
        parameters: { path: "/" },
        targets: { serverIds: [amd] },
        maxConcurrency: "1",
      });

    expect((await failure(start())).code).toBe(Code.FailedPrecondition);
    // The author cannot approve their own version, even when they hold templates.approve.
    const selfReview = await h.userToken("self-reviewer", [{ role: "admin", selector: "" }]);
    const own = await h
      .client(TemplateService, selfReview)
      .createTemplate({ key: "own", definition: definition() });
    expect(
      (
        await failure(
          h.client(TemplateService, selfReview).approveVersion({
            versionId: own.template?.latest?.id ?? "",
            hash: own.template?.latest?.hash ?? "",
          }),
        )
      ).code,
    ).toBe(Code.PermissionDenied);
    // Without templates.approve: denied; with a stale hash: refused naming the field.
    expect(
      (
        await failure(
          h.client(TemplateService, viewer).approveVersion({ versionId: v1?.id ?? "", hash: v1?.hash ?? "" }),
        )
      ).code,
    ).toBe(Code.PermissionDenied);
    const stale = await failure(
      h.client(TemplateService, reviewer).approveVersion({ versionId: v1?.id ?? "", hash: "0".repeat(64) }),
    );
    expect(stale.code).toBe(Code.InvalidArgument);
    expect(stale.rawMessage).toMatch(/^hash:/);

    const approved = await h
      .client(TemplateService, reviewer)
      .approveVersion({ versionId: v1?.id ?? "", hash: v1?.hash ?? "", note: "read it" });
    expect(approved.version).toMatchObject({ reviewState: "approved", reviewer: "reviewer" });

    // An edit is a new version, pending again; runs use the approved one.
    const edited = await h
      .client(TemplateService, author)
      .updateTemplate({ id, definition: definition({ description: "changed" }) });
    expect(edited.template?.latest).toMatchObject({ version: 2, reviewState: "pending" });
    expect(edited.template?.approved?.version).toBe(1);
    const run = (await start()).run;
    expect(run).toMatchObject({ version: 1, versionHash: v1?.hash, state: "running", actor: "author" });
    expect((await failure(start(edited.template?.latest?.id))).code).toBe(Code.FailedPrecondition);

    // The audit log says who wrote, approved and ran what, with the version's hash.
    const audit = await h.client(AuditService, reviewer).listAuditEntries({ limit: 200 });
    const entries = audit.entries.filter(
      (e) => e.action.startsWith("template.") || e.action.startsWith("run."),
    );
    const approve = entries.find((e) => e.action === "template.approve" && e.result === "success");
    expect(approve?.actorName).toBe("reviewer");
    expect(approve?.afterJson).toContain(v1?.hash ?? "missing");
    const started = entries.find((e) => e.action === "run.start" && e.result === "success");
    expect(started?.actorName).toBe("author");
    expect(started?.afterJson).toContain(v1?.hash ?? "missing");
  });

  it("previews per host exactly what runs, and lists refused hosts with their reason", async () => {
    const created = await h
      .client(TemplateService, author)
      .createTemplate({ key: "preview", definition: definition() });
    const id = created.template?.id ?? "";
    const hostile = "/a'b;$(id)`x`";
    const preview = await h.client(TemplateService, author).previewRun({
      templateId: id,
      parameters: { path: hostile },
      targets: { serverIds: [amd, arm, staging, other] },
    });
    const byName = Object.fromEntries(preview.hosts.map((host) => [host.serverName, host]));
    expect(byName["amd-1"]).toMatchObject({
      title: "disk report for amd64",
      command: ["bash", "-c", 'df -h -- "$1"; echo "$OCORE_PARAM_PATH"', "ocore-template", hostile, "prod"],
      refusedReason: "",
    });
    expect(byName["amd-1"]?.env).toMatchObject({
      REPORT_HOST: "amd-1.example",
      OCORE_PARAM_PATH: hostile,
      OCORE_ARCH: "amd64",
      OCORE_OS_ID: "debian",
    });
    expect(byName["arm-1"]?.title).toBe("disk report for arm64");
    expect(byName["stage-1"]?.refusedReason).toContain("outside the template's scope");
    expect(byName["dev-1"]?.refusedReason).toBe("you do not hold commands.run on this server");

    const invalid: Array<[Record<string, string>, string]> = [
      [{ path: "relative" }, "parameters.path: does not match the pattern"],
      [{ path: "/ok", nope: "1" }, "parameters.nope: is not a parameter"],
      [{ path: "/ok", unit: "kb" }, "parameters.unit: must be one of human, bytes"],
      [{ path: "/ok", depth: "9" }, "parameters.depth: must be between 1 and 5"],
      [{ path: "/ok\n/etc" }, "parameters.path: must not contain control characters"],
      [{}, "parameters.path: is required"],
    ];
    for (const [parameters, message] of invalid) {
      const error = await failure(
        h
          .client(TemplateService, author)
          .previewRun({ templateId: id, parameters, targets: { serverIds: [amd] } }),
      );
      expect(error.code, message).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toContain(message);
    }
    const none = await failure(
      h
        .client(TemplateService, author)
        .previewRun({ templateId: id, parameters: { path: "/" }, targets: { serverIds: [staging, other] } }),
    );
    expect(none.code).toBe(Code.InvalidArgument);
    expect(none.rawMessage).toContain("targets: every target is refused");
    const concurrency = await failure(
      h.client(RunService, author).startRun({
        templateId: id,
        parameters: { path: "/" },
        targets: { serverIds: [amd] },
        maxConcurrency: "0",
      }),
    );
    expect(concurrency.code).toBe(Code.FailedPrecondition); // not approved comes first
  });

  it("shows a run only with the hosts the caller may read (GetRun, ListRuns, WatchRun, CancelRun)", async () => {
    const created = await h
      .client(TemplateService, author)
      .createTemplate({ key: "scoped-runs", definition: definition({ scope: "" }) });
    const version = created.template?.latest;
    await h
      .client(TemplateService, reviewer)
      .approveVersion({ versionId: version?.id ?? "", hash: version?.hash ?? "" });
    const started = await h.client(RunService, reviewer).startRun({
      templateId: created.template?.id ?? "",
      parameters: { path: "/" },
      targets: { serverIds: [amd, arm, staging] },
      maxConcurrency: "100%",
      maxErrors: "100%",
    });
    const runId = started.run?.id ?? "";
    expect(started.run?.total).toBe(3);

    const prodViewer = await h.userToken("prod-viewer", [{ role: "viewer", selector: "env=prod" }]);
    const got = await h.client(RunService, prodViewer).getRun({ id: runId });
    expect(got.hosts.map((x) => x.serverName).sort()).toEqual(["amd-1", "arm-1"]);
    expect(got.run?.total).toBe(2);
    expect(got.groups.flatMap((g) => g.serverNames)).not.toContain("stage-1");
    const listed = await h.client(RunService, prodViewer).listRuns({});
    expect(listed.runs.find((r) => r.id === runId)?.total).toBe(2);
    for await (const snapshot of h.client(RunService, prodViewer).watchRun({ id: runId })) {
      expect(snapshot.hosts.map((x) => x.serverName).sort()).toEqual(["amd-1", "arm-1"]);
      break;
    }

    // Someone who may read none of its hosts does not learn the run exists, nor can stop it.
    const devOperator = await h.userToken("dev-operator", [{ role: "operator", selector: "env=dev" }]);
    expect((await failure(h.client(RunService, devOperator).getRun({ id: runId }))).code).toBe(Code.NotFound);
    expect((await h.client(RunService, devOperator).listRuns({})).runs.map((r) => r.id)).not.toContain(runId);
    expect((await failure(h.client(RunService, devOperator).cancelRun({ id: runId }))).code).toBe(
      Code.NotFound,
    );
    const watch = async () => {
      for await (const _ of h.client(RunService, devOperator).watchRun({ id: runId })) return;
    };
    expect((await failure(watch())).code).toBe(Code.NotFound);
    // An admin sees all three.
    expect((await h.client(RunService, reviewer).getRun({ id: runId })).hosts).toHaveLength(3);
  });
});
