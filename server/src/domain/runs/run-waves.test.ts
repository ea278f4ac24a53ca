import { asc, eq, sql } from "drizzle-orm";
import fc from "fast-check";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alice, createRunFleet, fail, ok, type RunFleet } from "../../../test/support/run-fleet.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import type { AppError } from "../../platform/errors/app-error.js";
import { cancelRun } from "./cancel-run.js";
import { resumeRun } from "./resume-run.js";
import { createRunDispatcher } from "./run-dispatcher.js";
import type { RunHostRow } from "./run-queries.js";
import { parseWaves } from "./waves.js";

const plan = (canary: string, waves: string, total: number, canaryPause = false) =>
  parseWaves({ canary, canaryPause, waves }, total).sizes;

describe("parseWaves: canary and batch sizes resolved to hosts", () => {
  it("resolves sizes, percentages (rounded up), rest, and repeats the last size", () => {
    expect(plan("", "", 7)).toEqual([7]);
    expect(plan("", "1, 10%, 50%, rest", 20)).toEqual([1, 2, 10, 7]);
    expect(plan("", "1, 10%, 50%, 100%", 20)).toEqual([1, 2, 10, 7]);
    expect(plan("2", "1, 10%, 50%, rest", 20)).toEqual([2, 1, 2, 10, 5]);
    expect(plan("5%", "", 100)).toEqual([5, 95]);
    expect(plan("1%", "", 3)).toEqual([1, 2]);
    expect(plan("", "2", 5)).toEqual([2, 2, 1]);
    expect(plan("1", "3", 8)).toEqual([1, 3, 3, 1]);
    expect(plan("", "1", 1000)).toHaveLength(1000);
  });

  it.each([
    ["canary", "3", "", 3, "every runnable target (3)"],
    ["canary", "100%", "", 10, "between 1% and 99%"],
    ["canary", "0", "", 10, "at least 1 host"],
    ["canary", "one", "", 10, "is not a number of hosts"],
    ["waves", "", "rest, 5", 10, '"rest" can only be the last'],
    ["waves", "", "0", 10, "at least 1 host"],
    ["waves", "", "1,,2", 10, "is not a number of hosts"],
    ["waves", "", "150%", 10, "between 1% and 100%"],
    ["waves", "", "1", 1001, "more than 1000 waves"],
    ["waves", "", Array(21).fill("1").join(","), 100, "at most 20 sizes"],
  ])("refuses %s %j / %j on %i hosts, naming the field", (field, canary, waves, total, message) => {
    let error: AppError | undefined;
    try {
      parseWaves({ canary, canaryPause: false, waves }, total);
    } catch (e) {
      error = e as AppError;
    }
    expect(error?.code).toBe("invalid_argument");
    expect(error?.message).toContain(field);
    expect(error?.message).toContain(message);
  });

  it("refuses a pause without a canary", () => {
    expect(() => parseWaves({ canary: "", canaryPause: true, waves: "" }, 5)).toThrow(/canary_pause/);
  });
});

/** Every host of a later wave started only after every host of the waves before it ended. */
function expectWavesInOrder(hosts: readonly RunHostRow[]) {
  const started = hosts.filter((h) => h.startedAt);
  for (const later of started) {
    for (const earlier of hosts) {
      if (earlier.wave >= later.wave) continue;
      expect(earlier.finishedAt, `${earlier.serverName} (wave ${earlier.wave}) ended`).not.toBeNull();
      expect((later.startedAt as Date).getTime()).toBeGreaterThanOrEqual(
        (earlier.finishedAt as Date).getTime(),
      );
    }
  }
}

describe.each(databaseKinds)("runs with a canary and waves on %s (scripted agents)", (kind) => {
  let f: RunFleet;
  let templateId = "";

  beforeAll(async () => {
    f = await createRunFleet(kind);
    templateId = await f.approvedTemplate("df", "df -h");
  }, 60_000);
  afterAll(async () => {
    await f?.close();
  });

  it("runs the canary first, then the waves one after another, each opening after the one before ended", async () => {
    const ids = await f.fleet(
      Array.from({ length: 12 }, () => ({ online: true, reply: () => ok("fine\n") })),
    );
    const runId = await f.start(templateId, {
      serverIds: ids,
      canary: "2",
      waves: "1, 25%, rest",
      maxConcurrency: "100%",
    });
    const { run, hosts, waves } = await f.finished(runId);
    expect(run.state).toBe("succeeded");
    expect(run.waveSizes).toEqual([2, 1, 3, 6]);
    expect(waves.map((w) => [w.number, w.canary, w.size, w.state, w.succeeded])).toEqual([
      [1, true, 2, "done", 2],
      [2, false, 1, "done", 1],
      [3, false, 3, "done", 3],
      [4, false, 6, "done", 6],
    ]);
    expectWavesInOrder(hosts);
    // Dispatch order is the hosts' order: the canary is the first two targets.
    const canary = hosts.filter((h) => h.wave === 0).map((h) => h.position);
    expect(canary.sort()).toEqual([1, 2]);
  });

  it("stops at the canary's first failure: no host after the canary starts, whatever max errors says", async () => {
    f.sent.length = 0;
    const ids = await f.fleet([
      { online: true, reply: () => fail("broken\n") },
      ...Array.from({ length: 9 }, () => ({ online: true, reply: () => ok("fine\n") })),
    ]);
    const runId = await f.start(templateId, {
      serverIds: ids,
      canary: "1",
      waves: "50%",
      maxErrors: "5",
      maxConcurrency: "100%",
    });
    const { run, hosts, waves } = await f.finished(runId);
    expect(run.state).toBe("stopped");
    expect(run.stopReason).toBe(
      "canary failed: 1 of 1 canary hosts failed; no host after the canary started",
    );
    expect(f.sent).toEqual([ids[0]]);
    expect(hosts.filter((h) => h.commandId)).toHaveLength(1);
    const skipped = hosts.filter((h) => h.state === "skipped");
    expect(skipped).toHaveLength(9);
    expect(skipped[0]?.reason).toBe("not started: the canary failed (1 of 1 canary hosts failed)");
    expect(waves.map((w) => w.state)).toEqual(["done", "skipped", "skipped"]);
    const end = await f.database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, runId))
      .orderBy(asc(auditLog.id));
    expect(end.at(-1)).toMatchObject({ action: "run.end", result: "failure" });
    expect(end.at(-1)?.detail).toMatch(/^canary failed/);
  });

  it("counts an offline canary host as a canary failure", async () => {
    const ids = await f.fleet([
      { online: false, reply: () => ok("x\n") },
      { online: true, reply: () => ok("fine\n") },
      { online: true, reply: () => ok("fine\n") },
    ]);
    const runId = await f.start(templateId, { serverIds: ids, canary: "1", maxErrors: "2" });
    const { run, hosts } = await f.finished(runId);
    expect(run.state).toBe("stopped");
    expect(hosts.find((h) => h.serverId === ids[0])?.state).toBe("unreachable");
    expect(hosts.filter((h) => h.state === "skipped")).toHaveLength(2);
  });

  it("pauses after a successful canary until someone resumes it (audited), and a paused run can be cancelled", async () => {
    const ids = await f.fleet(Array.from({ length: 4 }, () => ({ online: true, reply: () => ok("fine\n") })));
    const runId = await f.start(templateId, { serverIds: ids, canary: "1", canaryPause: true });
    let view = await f.settled(runId);
    for (let i = 0; i < 200 && view.run.state !== "paused"; i++) {
      await new Promise((r) => setTimeout(r, 10));
      view = await f.settled(runId);
    }
    expect(view.run.state).toBe("paused");
    expect(view.run.stopReason).toBe(
      "paused after the canary: all 1 canary hosts succeeded; resume to start wave 2 of 2",
    );
    expect(view.waves.map((w) => w.state)).toEqual(["paused", "waiting"]);
    // A pause holds: the dispatcher stepping again (a lease tick, another replica) starts nothing.
    await f.dispatcher.tick();
    f.dispatcher.kick(runId);
    view = await f.settled(runId);
    expect(view.run.state).toBe("paused");
    expect(view.hosts.filter((h) => h.commandId)).toHaveLength(1);

    await resumeRun(f.database.db, alice, { runId, note: "canary looks fine" }, new Date());
    f.dispatcher.kick(runId);
    const done = await f.finished(runId);
    expect(done.run.state).toBe("succeeded");
    expect(done.run.stopReason).toBe("");
    expectWavesInOrder(done.hosts);
    const entries = await f.database.db.select().from(auditLog).where(eq(auditLog.targetId, runId));
    expect(entries.find((e) => e.action === "run.resume")).toMatchObject({ actorName: "alice" });
    await expect(resumeRun(f.database.db, alice, { runId, note: "" }, new Date())).rejects.toThrow(
      /is succeeded; only a run paused after its canary can be resumed/,
    );

    const again = await f.fleet(
      Array.from({ length: 3 }, () => ({ online: true, reply: () => ok("fine\n") })),
    );
    const pausedId = await f.start(templateId, { serverIds: again, canary: "1", canaryPause: true });
    for (let i = 0; i < 200 && (await f.settled(pausedId)).run.state !== "paused"; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await cancelRun(f.database.db, f.runner, alice, { runId: pausedId, reason: "enough" }, new Date());
    f.dispatcher.kick(pausedId);
    const cancelled = await f.finished(pausedId);
    expect(cancelled.run.state).toBe("cancelled");
    expect(cancelled.hosts.filter((h) => h.state === "cancelled")).toHaveLength(2);
  });

  it("goes on with its waves on another replica when the first one's lease lapsed (a crash)", async () => {
    const ids = await f.fleet(Array.from({ length: 4 }, () => ({ online: true, reply: () => ok("fine\n") })));
    const runId = await f.start(templateId, { serverIds: ids, canary: "1", canaryPause: true, waves: "1" });
    for (let i = 0; i < 200 && (await f.settled(runId)).run.state !== "paused"; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await resumeRun(f.database.db, alice, { runId, note: "" }, new Date());
    // The first replica is gone without a word: nobody kicks it, its lease lapses.
    await f.database.db.execute(
      sql`update command_runs set lease_until = now() - interval '1 minute' where id = ${runId}`,
    );
    const other = createRunDispatcher({
      db: f.database.db,
      commands: f.runner,
      logger: pino({ level: "silent" }),
      replicaId: "replica-b",
      tickEveryMs: 0,
      isLive: (id) => f.agents.has(id),
    });
    try {
      await other.tick();
      let view = await f.settled(runId);
      for (let i = 0; i < 400 && !view.run.finishedAt; i++) {
        await other.idle();
        await new Promise((r) => setTimeout(r, 10));
        view = await f.settled(runId);
      }
      expect(view.run.state).toBe("succeeded");
      expect(view.waves.map((w) => w.state)).toEqual(["done", "done", "done", "done"]);
      expectWavesInOrder(view.hosts);
    } finally {
      await other.close();
    }
  });

  it("keeps one error budget across waves: nothing starts after it is spent, waves never overlap (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom("ok", "ok", "fail", "offline"), { minLength: 2, maxLength: 14 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom("", "1"),
        fc.constantFrom("", "1", "2, 50%", "1, 10%, rest", "3"),
        async (kinds, concurrency, maxErrors, canary, waves) => {
          f.stats.maxInFlight = 0;
          const ids = await f.fleet(
            kinds.map((k) => ({
              online: k !== "offline",
              reply: () => (k === "ok" ? ok("a\n") : fail("b\n")),
            })),
          );
          const runId = await f.start(templateId, {
            serverIds: ids,
            canary,
            waves,
            maxConcurrency: String(concurrency),
            maxErrors: String(maxErrors),
          });
          const { run, hosts } = await f.finished(runId);
          const failed = (h: RunHostRow) => ["failed", "timed_out", "unreachable"].includes(h.state);
          const errors = hosts.filter(failed).length;
          expect(run.dispatchedAfterBudget).toBe(0);
          expect(errors).toBeLessThanOrEqual(maxErrors + concurrency);
          expect(f.stats.maxInFlight).toBeLessThanOrEqual(concurrency);
          for (const host of hosts)
            if (host.errorsAtDispatch !== null) expect(host.errorsAtDispatch).toBeLessThanOrEqual(maxErrors);
          expectWavesInOrder(hosts);
          const canaryFailed = canary !== "" && hosts.some((h) => h.wave === 0 && failed(h));
          if (canaryFailed) {
            expect(run.state).toBe("stopped");
            expect(hosts.filter((h) => h.wave > 0 && h.state !== "skipped")).toEqual([]);
            // The canary's own budget is 0: once one failed, no other canary host started.
            for (const host of hosts)
              if (host.wave === 0 && host.startedAt) expect(host.errorsAtDispatch).toBe(0);
          } else if (errors > maxErrors) {
            expect(run.state).toBe("stopped");
            expect(run.stopReason).toContain(`no host started after failure ${maxErrors + 1}`);
          } else {
            expect(hosts.every((h) => h.state === "succeeded" || failed(h))).toBe(true);
            expect(run.state).toBe(errors > 0 ? "failed" : "succeeded");
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 180_000);
});
