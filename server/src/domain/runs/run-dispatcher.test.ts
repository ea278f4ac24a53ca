import { fromBinary } from "@bufbuild/protobuf";
import { ScriptRunSchema } from "@ocore/proto/gen/ocore/agent/v1/script_commands_pb.js";
import { asc, eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alice, createRunFleet, fail, ok, type RunFleet } from "../../../test/support/run-fleet.js";
import type { ScriptedReply } from "../../../test/support/scripted-agent.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { cancelRun } from "./cancel-run.js";
import { runSignature, watchRun } from "./watch-run.js";

/**
 * The dispatcher with the real command runner on PGlite and PostgreSQL; each host's agent is a
 * scripted live stream (or none: an offline host). Rate control is checked as a property over
 * random fleets, failure sets and limits, plus the "done when" scenario and cancel.
 */
describe.each(databaseKinds)("run dispatcher on %s: rate control, error budget, cancel", (kind) => {
  let f: RunFleet;
  let templateId = "";
  let slowTemplateId = "";

  const start = (serverIds: string[], maxConcurrency: string, maxErrors: string, id = templateId) =>
    f.start(id, { serverIds, maxConcurrency, maxErrors });
  const fleet = (specs: Parameters<RunFleet["fleet"]>[0]) => f.fleet(specs);
  const finished = (runId: string) => f.finished(runId);

  beforeAll(async () => {
    f = await createRunFleet(kind);
    templateId = await f.approvedTemplate("df", "df -h");
    slowTemplateId = await f.approvedTemplate("slow", "sleep 600");
  }, 60_000);
  afterAll(async () => {
    await f?.close();
  });

  it("stops dispatching exactly at failure max-errors + 1 (concurrency 2, max errors 1, two failures) and groups outputs", async () => {
    const ids = await fleet([
      { online: true, reply: () => ok("Linux 6.1\n") },
      { online: true, reply: () => fail("disk full\n") },
      { online: true, reply: () => ok("Linux 6.1\n") },
      { online: true, reply: () => fail("disk full\n") },
      { online: true, reply: () => ok("Linux 6.1\n") },
      { online: true, reply: () => ok("Linux 6.1\n") },
      { online: true, reply: () => ok("Linux 6.1\n") },
    ]);
    const runId = await start(ids, "2", "1");
    const { run, hosts, groups } = await finished(runId);
    expect(run.state).toBe("stopped");
    expect(run.stopReason).toContain("no host started after failure 2");
    expect(run.dispatchedAfterBudget).toBe(0);
    const byState = (s: string) => hosts.filter((h) => h.state === s).length;
    expect(byState("failed")).toBe(2);
    expect(byState("skipped")).toBeGreaterThan(0);
    // Nothing started once the second failure was counted.
    for (const host of hosts.filter((h) => h.commandId)) expect(host.errorsAtDispatch).toBeLessThanOrEqual(1);
    expect(hosts[0]?.state).toBe("failed"); // failures first
    expect(groups[0]).toMatchObject({ state: "failed", output: "disk full\n" });
    expect(groups[0]?.serverNames).toHaveLength(2);
    expect(groups.find((g) => g.state === "succeeded")?.output).toBe("Linux 6.1\n");
    expect(hosts.find((h) => h.state === "succeeded")?.sandbox).toBe("process");
    // What went to the host is the reviewed script, unchanged.
    const sent = f.agents.get(ids[0] as string)?.received[0];
    expect(sent && fromBinary(ScriptRunSchema, sent.spec)).toMatchObject({
      script: "df -h",
      runAs: "nobody",
      timeoutSeconds: 30,
    });
    // Who started it, then how it ended: the budget exhausted, with the version's hash.
    const entries = await f.database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, runId))
      .orderBy(asc(auditLog.id));
    expect(entries.map((e) => e.action)).toEqual(["run.start", "run.end"]);
    expect(entries[1]).toMatchObject({ actorName: "system", result: "failure" });
    expect(entries[1]?.detail).toMatch(/^error budget exhausted/);
    const after = JSON.parse(entries[1]?.afterJson ?? "{}") as { sha256?: string };
    expect(after).toMatchObject({ state: "stopped", hosts: { failed: 2 } });
    expect(after.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("keeps the budget under random fleets, failures and offline hosts (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom("ok", "fail", "offline"), { minLength: 1, maxLength: 14 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 4 }),
        async (kinds, concurrency, maxErrors) => {
          f.stats.maxInFlight = 0;
          const ids = await fleet(
            kinds.map((k) => ({
              online: k !== "offline",
              reply: () => (k === "ok" ? ok("fine\n") : fail("bad\n")),
            })),
          );
          const runId = await start(ids, String(concurrency), String(maxErrors));
          const { run, hosts } = await finished(runId);
          const errors = hosts.filter((h) => ["failed", "timed_out", "unreachable"].includes(h.state)).length;
          expect(run.dispatchedAfterBudget).toBe(0);
          expect(errors).toBeLessThanOrEqual(maxErrors + Math.min(concurrency, kinds.length));
          expect(f.stats.maxInFlight).toBeLessThanOrEqual(concurrency);
          for (const host of hosts) {
            // An offline host is an error at once (never silently waiting), or skipped once the budget is spent.
            if (kinds[ids.indexOf(host.serverId)] === "offline")
              expect(["unreachable", "skipped"]).toContain(host.state);
          }
          for (const host of hosts)
            if (host.errorsAtDispatch !== null) expect(host.errorsAtDispatch).toBeLessThanOrEqual(maxErrors);
          if (errors > maxErrors) {
            expect(run.state).toBe("stopped");
          } else {
            expect(hosts.every((h) => ["succeeded", "failed", "unreachable"].includes(h.state))).toBe(true);
            expect(run.state).toBe(errors > 0 ? "failed" : "succeeded");
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);

  it("cancel stops everything pending and signals what runs", async () => {
    const ids = await fleet(
      Array.from({ length: 5 }, () => ({
        online: true,
        reply: (): ScriptedReply => ({ untilCancelled: true }),
      })),
    );
    const runId = await start(ids, "2", "0", slowTemplateId);
    await f.dispatcher.idle();
    await new Promise((r) => setTimeout(r, 300)); // the scripted agents started their commands
    await cancelRun(f.database.db, f.runner, alice, { runId, reason: "wrong window" }, new Date());
    const { run, hosts } = await finished(runId);
    expect(run.state).toBe("cancelled");
    expect(run.stopReason).toBe("cancelled by alice: wrong window");
    expect(hosts.every((h) => h.state === "cancelled")).toBe(true);
    expect(hosts.filter((h) => h.commandId)).toHaveLength(2);
    const signalled = ids.flatMap((id) => f.agents.get(id)?.cancelled ?? []);
    expect(signalled).toHaveLength(2);
    const ends = await f.database.db.select().from(auditLog).where(eq(auditLog.targetId, runId));
    expect(ends.find((e) => e.action === "run.end")).toMatchObject({
      result: "success",
      detail: "cancelled by alice: wrong window",
    });
  });

  it("watchRun streams a running host's output before it ends, and re-reads only on a change", async () => {
    const ids = await fleet([
      {
        online: true,
        reply: (): ScriptedReply => ({ output: [["stdout", "first line\n"]], untilCancelled: true }),
      },
    ]);
    const runId = await start(ids, "1", "0", slowTemplateId);
    await f.dispatcher.idle();
    const abort = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      for await (const snapshot of watchRun(f.database.db, runId, { all: true }, abort.signal, 20)) {
        const host = snapshot.hosts[0];
        seen.push(`${snapshot.run.state}:${host?.state}:${host?.output}`);
      }
    })();
    for (let i = 0; i < 500 && !seen.includes("running:running:first line\n"); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen).toContain("running:running:first line\n");
    // Nothing changes while it waits: the small signature stays the same, so no snapshot is sent
    // (the output's byte count may land just after its chunk: let it settle first).
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      await pause(150);
      const quiet = await runSignature(f.database.db, runId);
      await pause(100);
      const before = seen.length;
      await pause(200);
      expect(await runSignature(f.database.db, runId)).toBe(quiet);
      expect(seen.length).toBe(before);
    } catch (error) {
      abort.abort();
      throw error;
    }
    await cancelRun(f.database.db, f.runner, alice, { runId, reason: "" }, new Date());
    await finished(runId);
    await watching; // ends by itself with the run
    expect(seen.at(-1)).toMatch(/^cancelled:cancelled:/);
  });

  it("keeps 64 KiB of a large output on the host row and counts all of it (outcomes read in one batch)", async () => {
    const big = `${"y".repeat(40_000)}\n`;
    const ids = await fleet([
      {
        online: true,
        reply: (): ScriptedReply => ({
          output: [
            ["progress", "sandbox: process (test)\n"],
            ["stdout", big],
            ["stderr", big],
            ["stdout", "tail\n"],
          ],
          error: { code: "script_failed", message: "exit 1" },
        }),
      },
      { online: true, reply: () => ok("small\n") },
    ]);
    const runId = await start(ids, "2", "5");
    const { hosts } = await finished(runId);
    const large = hosts.find((h) => h.serverId === ids[0]);
    expect(large).toMatchObject({ state: "failed", sandbox: "process", outputBytes: 2 * big.length + 5 });
    expect(large?.output).toBe((big + big).slice(0, 64 * 1024));
    expect(hosts.find((h) => h.serverId === ids[1])?.output).toBe("small\n");
  });
});
