import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AlertFixture, createAlertFixture, settings } from "../../../test/support/alert-fixture.js";
import { createDatabase, type Database } from "../../platform/db/database.js";
import { createAlertEvaluator } from "./alert-evaluator.js";
import { createOutboxWorker } from "./outbox/outbox-worker.js";

/** Two server processes on one PostgreSQL: each is a separate pool, as two replicas would be. */
describe("alerts with two replicas on one PostgreSQL", () => {
  let t: AlertFixture;
  let second: Database;
  beforeEach(async () => {
    t = await createAlertFixture("postgres");
    second = createDatabase({ kind: "postgres", url: t.database.url as string, poolSize: 4 });
  });
  afterEach(async () => {
    await second?.close();
    await t?.close();
  });

  const evaluatorOn = (db: Database["db"]) =>
    createAlertEvaluator({
      db,
      logger: pino({ level: "silent" }),
      now: t.clock.now,
      settings,
      everyMs: 10_000,
    });

  it("evaluates on one replica at a time and sends each notification once", async () => {
    const a = evaluatorOn(t.db);
    const b = evaluatorOn(second.db);
    const id = await t.addServer("db-1");
    await t.sample(id, { "/": 97 });
    const first = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(first.filter((result) => result !== undefined)).toHaveLength(1);
    t.clock.advance(60_000);
    await t.sample(id, { "/": 97 });
    const cycle = await Promise.all([a.runOnce(), b.runOnce()]);
    const ran = cycle.filter((result) => result !== undefined);
    expect(ran).toHaveLength(1);
    expect(ran[0]).toMatchObject({ events: 1, notifications: 2 });

    const workers = [t.db, second.db].map((db) =>
      createOutboxWorker({ db, logger: pino({ level: "silent" }), now: t.clock.now, keyring: t.keyring }),
    );
    const sent = await Promise.all(workers.map((worker) => worker.runDue()));
    expect(sent.reduce((a, b) => a + b, 0)).toBe(2);
    expect(t.webhook.received).toHaveLength(1);
    expect((await t.smtp.waitFor(1)).length).toBe(1);

    // The holder stops and gives its lease back: the other replica takes over at once.
    const holder = cycle[0] ? a : b;
    const other = holder === a ? b : a;
    await holder.stop();
    expect(await other.runOnce()).toBeDefined();
    await other.stop();
  });

  it("takes the evaluation over from a replica that died once its lease expired", async () => {
    const a = evaluatorOn(t.db);
    const b = evaluatorOn(second.db);
    expect(await a.runOnce()).toBeDefined();
    expect(await b.runOnce()).toBeUndefined();
    t.clock.advance(29_000);
    expect(await b.runOnce()).toBeUndefined();
    t.clock.advance(1_001); // a's lease (3 cycles) ran out without a renewal
    expect(await b.runOnce()).toBeDefined();
    expect(await a.runOnce()).toBeUndefined();
  });
});
