import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, dropPostgresDatabase } from "../support/test-databases.js";

/** The agent's query and its reading, loaded from the agent's source by path (as other e2e tests load its support). */
const moduleUrl = new URL("../../../agent/src/checks/odoo-database-checks.ts", import.meta.url).pathname;

interface DatabaseCheckModule {
  DATABASE_CHECK_SQL: string;
  parseDatabaseCheck(
    line: string,
    subject: string,
  ): Array<{ key: string; state: string; value?: number; message: string }>;
}

/**
 * The cron lag and mail queue query the agent runs with psql in an instance's db container, run
 * here on a real PostgreSQL with the columns Odoo has (`ir_cron.active/nextcall`,
 * `mail_mail.state/create_date`, UTC timestamps without a time zone), then read as the agent reads it.
 */
describe("the Odoo database check's query on PostgreSQL", () => {
  let url: string;
  let sql: postgres.Sql;
  let check: DatabaseCheckModule;

  beforeAll(async () => {
    check = (await import(moduleUrl)) as DatabaseCheckModule;
    url = await createPostgresDatabase();
    sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql`create table ir_cron (id serial primary key, active boolean not null, nextcall timestamp not null)`;
  });
  afterAll(async () => {
    await sql?.end();
    if (url) await dropPostgresDatabase(url);
  });

  const run = async () => {
    const [row] = await sql.unsafe(check.DATABASE_CHECK_SQL);
    const line = String(Object.values(row ?? {})[0]);
    const results = check.parseDatabaseCheck(line, "shop");
    return { line, cron: results[0], mail: results[1] };
  };
  const ago = (minutes: number) => sql`(now() at time zone 'utc') - make_interval(mins => ${minutes})`;

  it("reads cron lag, and says when the mail module is not installed", async () => {
    await sql`insert into ir_cron (active, nextcall) values (true, ${ago(-10)}), (false, ${ago(300)})`;
    let found = await run();
    expect(found.line).toBe("0|0|-1|-1|-1");
    expect(found.cron).toMatchObject({ key: "odoo_cron", state: "ok", value: 0 });
    expect(found.mail).toMatchObject({
      key: "odoo_mail",
      state: "ok",
      message: "the mail module is not installed",
    });

    // An active cron 20 minutes late (the inactive one 5 h late does not count): warning.
    await sql`insert into ir_cron (active, nextcall) values (true, ${ago(20)})`;
    found = await run();
    expect(found.cron?.state).toBe("warning");
    expect(found.cron?.value).toBeGreaterThanOrEqual(1200);
    expect(found.cron?.message).toBe("1 scheduled action is late; the most overdue by 20 min");
    await sql`insert into ir_cron (active, nextcall) values (true, ${ago(90)})`;
    expect((await run()).cron).toMatchObject({ state: "critical" });
  });

  it("reads the mail queue: failed mail warns, mail stuck for hours is critical", async () => {
    await sql`delete from ir_cron`;
    await sql`create table mail_mail (id serial primary key, state varchar not null, create_date timestamp)`;
    await sql`insert into mail_mail (state, create_date) values ('sent', ${ago(600)}), ('outgoing', ${ago(1)})`;
    let found = await run();
    expect(found.mail).toMatchObject({ state: "ok", value: 1 });
    await sql`insert into mail_mail (state, create_date) values ('exception', ${ago(5)})`;
    found = await run();
    expect(found.mail).toMatchObject({ state: "warning", value: 2 });
    expect(found.mail?.message).toBe("1 outgoing and 1 failed e-mails queued; the oldest for 5 min");
    await sql`insert into mail_mail (state, create_date) values ('outgoing', ${ago(180)})`;
    expect((await run()).mail).toMatchObject({ state: "critical", value: 3 });
  });
});
