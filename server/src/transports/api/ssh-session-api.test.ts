import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import { SshSessionService } from "@ocore/proto/gen/ocore/api/v1/ssh_session_service_pb.js";
import { and, eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { type SessionRecorder, startSessionRecording } from "../../domain/ssh-sessions/session-recorder.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { servers } from "../../platform/db/schema/servers.js";
import { users } from "../../platform/db/schema/users.js";
import { createHttpServer, type HttpServer } from "../http/http-server.js";
import { createApiRoutes } from "./routes.js";

const run = promisify(execFile);
const bytes = (text: string) => Buffer.from(text, "utf8");

async function refusal(call: Promise<unknown> | AsyncIterable<unknown>): Promise<Code | "ok"> {
  try {
    const result = await call;
    if (result && typeof result === "object" && Symbol.asyncIterator in result) {
      for await (const _ of result as AsyncIterable<unknown>) break;
    }
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe("SshSessionService and the .cast download", () => {
  let h: ApiHarness;
  let http: HttpServer;
  let base: string;
  let owner: string;
  let viewer: string;
  let auditor: string;
  let devAuditor: string;
  const ids = { prod: "", dev: "", alice: "" };
  const sessions = { prodShell: "", devExec: "", live: "" };
  let live: SessionRecorder;
  const client = (token: string) => h.client(SshSessionService, token);

  beforeAll(async () => {
    h = await createApiHarness("pglite");
    owner = await h.ownerToken();
    viewer = await h.userToken("vera", [{ role: "viewer", selector: "" }]);
    auditor = await h.userToken("audrey", [{ role: "auditor", selector: "" }]);
    devAuditor = await h.userToken("dave", [{ role: "auditor", selector: "env=dev" }]);
    const { db } = h.database;
    const [prod] = await db
      .insert(servers)
      .values({ name: "web-1", status: "active", tags: { env: "prod" } })
      .returning();
    const [dev] = await db
      .insert(servers)
      .values({ name: "dev-1", status: "active", tags: { env: "dev" } })
      .returning();
    const [alice] = await db.select().from(users).where(eq(users.username, "vera"));
    ids.prod = prod?.id ?? "";
    ids.dev = dev?.id ?? "";
    ids.alice = alice?.id ?? "";
    const start = { userId: ids.alice, login: "odoo", cols: 80, rows: 24, clientAddress: "192.0.2.9:40000" };
    const settings = { recordInput: false, maxBytes: 1 << 20, chunkBytes: 256 };
    const prodShell = await startSessionRecording(
      db,
      { ...start, serverId: ids.prod, kind: "shell" },
      settings,
    );
    prodShell.output(bytes("\u001b[32m$\u001b[0m systemctl status odoo\r\n"));
    // A word cut by a chunk boundary: the chunks are 256 bytes here.
    prodShell.output(bytes(`${"-".repeat(230)}needle-in-`));
    prodShell.output(bytes(`${"_".repeat(300)}\r\n`));
    prodShell.output(bytes("haystack-split héllo 😀 100% done\r\n"));
    await prodShell.end({ exitStatus: 0, reason: "exit" });
    sessions.prodShell = prodShell.sessionId;
    const devExec = await startSessionRecording(
      db,
      { ...start, serverId: ids.dev, kind: "exec", command: "pg_dump odoo-dev" },
      settings,
    );
    devExec.output(bytes("dumped\r\n"));
    await devExec.end({ exitStatus: 2, reason: "exit" });
    sessions.devExec = devExec.sessionId;
    live = await startSessionRecording(db, { ...start, serverId: ids.prod, kind: "shell" }, settings);
    sessions.live = live.sessionId;

    http = createHttpServer({
      logger: pino({ level: "silent" }),
      routes: createApiRoutes(h.api.services),
      interceptors: h.api.interceptors,
      readMaxBytes: 1 << 20,
      requestGate: h.api.requestGate,
      contextValues: h.api.contextValues,
      prefixRoutes: h.api.prefixRoutes,
      readiness: async () => {},
    });
    const address: AddressInfo = await http.listen("127.0.0.1", 0);
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await live?.end({ exitStatus: null, reason: "test_over" });
    await http?.close();
    await h?.close();
  });

  it("lists sessions newest first, pages, and filters by server, user and liveness", async () => {
    const all = await client(owner).listSessions({});
    expect(all.sessions.map((s) => s.id)).toEqual([sessions.live, sessions.devExec, sessions.prodShell]);
    expect(all.sessions[0]).toMatchObject({
      live: true,
      kind: "shell",
      serverName: "web-1",
      username: "vera",
    });
    expect(all.sessions[1]).toMatchObject({
      live: false,
      exitStatus: 2,
      command: "pg_dump odoo-dev",
      endReason: "exit",
    });
    const pages: string[] = [];
    let token = "";
    do {
      const page = await client(owner).listSessions({ pageSize: 1, pageToken: token });
      pages.push(...page.sessions.map((s) => s.id));
      token = page.nextPageToken;
    } while (token);
    expect(pages).toEqual(all.sessions.map((s) => s.id));
    expect((await client(owner).listSessions({ serverId: ids.dev })).sessions.map((s) => s.id)).toEqual([
      sessions.devExec,
    ]);
    expect((await client(owner).listSessions({ liveOnly: true })).sessions.map((s) => s.id)).toEqual([
      sessions.live,
    ]);
    expect((await client(owner).listSessions({ userId: ids.prod })).sessions).toEqual([]);
    expect(await refusal(client(owner).listSessions({ pageSize: 501 }))).toBe(Code.InvalidArgument);
    expect(await refusal(client(owner).listSessions({ serverId: "web-1" }))).toBe(Code.InvalidArgument);
  });

  it("streams a recording, and finds text printed even across a chunk boundary", async () => {
    const pieces: Uint8Array[] = [];
    let fileName = "";
    for await (const piece of client(auditor).getRecording({ id: sessions.prodShell })) {
      pieces.push(piece.data);
      fileName ||= piece.fileName;
    }
    expect(pieces.length).toBeGreaterThan(2);
    expect(fileName).toMatch(/^web-1-vera-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.cast$/);
    const cast = Buffer.concat(pieces).toString("utf8");
    expect(JSON.parse(cast.split("\n")[0] ?? "")).toMatchObject({ version: 2, width: 80, height: 24 });
    const split = await client(auditor).searchRecordings({ query: "needle-in-___" });
    expect(split.hits.map((hit) => hit.session?.id)).toEqual([sessions.prodShell]);
    const colored = await client(auditor).searchRecordings({ query: "$ systemctl status" });
    expect(colored.hits[0]?.snippet).toContain("$ systemctl status odoo");
    expect((await client(auditor).searchRecordings({ query: "HÉLLO 😀" })).hits).toHaveLength(1);
    // LIKE's wildcards are matched literally; the exec command is searched too.
    expect((await client(auditor).searchRecordings({ query: "0% d" })).hits).toHaveLength(1);
    expect((await client(auditor).searchRecordings({ query: "_%_" })).hits).toHaveLength(0);
    expect((await client(auditor).searchRecordings({ query: "pg_dump" })).hits[0]?.session?.id).toBe(
      sessions.devExec,
    );
    expect(await refusal(client(auditor).searchRecordings({ query: "ab" }))).toBe(Code.InvalidArgument);
  });

  it("keeps a scoped auditor to its servers and refuses a viewer", async () => {
    const seen = await client(devAuditor).listSessions({});
    expect(seen.sessions.map((s) => s.id)).toEqual([sessions.devExec]);
    expect((await client(devAuditor).searchRecordings({ query: "systemctl" })).hits).toEqual([]);
    expect(await refusal(client(devAuditor).getSession({ id: sessions.prodShell }))).toBe(
      Code.PermissionDenied,
    );
    expect(await refusal(client(devAuditor).getSession({ id: sessions.devExec }))).toBe("ok");
    // Thunks: each call starts only when awaited, so no refusal waits unhandled behind another.
    for (const call of [
      () => client(viewer).listSessions({}),
      () => client(viewer).getSession({ id: sessions.prodShell }),
      () => client(viewer).searchRecordings({ query: "systemctl" }),
      () => client(viewer).getRecording({ id: sessions.prodShell }),
      () => client(viewer).endSession({ id: sessions.live }),
      () => client(auditor).endSession({ id: sessions.live }),
    ]) {
      expect(await refusal(call())).toBe(Code.PermissionDenied);
    }
  });

  it("ends a live session held here, audited, and refuses to end one that is over", async () => {
    const messages: string[] = [];
    const unregister = h.liveSessions.register({
      sessionId: sessions.live,
      userId: ids.alice,
      serverId: ids.prod,
      login: "odoo",
      startedAt: new Date(),
      terminate: (message) => messages.push(message),
    });
    expect(await client(owner).endSession({ id: sessions.live })).toMatchObject({ endedHere: true });
    expect(messages).toEqual(["The session was ended by admin."]);
    expect(h.liveSessions.has(sessions.live)).toBe(false);
    unregister();
    const [entry] = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "ssh.session.end"), eq(auditLog.result, "success")));
    expect(entry).toMatchObject({ actorName: "admin", targetId: ids.prod });
    expect(entry?.detail).toContain(sessions.live);
    expect(await refusal(client(owner).endSession({ id: sessions.prodShell }))).toBe(Code.FailedPrecondition);
  });

  it("serves the .cast over HTTP GET with the API's authentication, and asciinema accepts it", async (context) => {
    const url = `${base}/api/ssh-sessions/${sessions.prodShell}.cast`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(403);
    expect((await fetch(url, { headers: { cookie: `ocore_access=${owner}` } })).status).toBe(403);
    const devOnly = await fetch(url, { headers: { authorization: `Bearer ${devAuditor}` } });
    expect(devOnly.status).toBe(404);
    const missing = `${base}/api/ssh-sessions/00000000-0000-4000-8000-000000000000.cast`;
    expect((await fetch(missing, { headers: { authorization: `Bearer ${owner}` } })).status).toBe(404);
    const response = await fetch(url, { headers: { authorization: `Bearer ${auditor}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-asciicast; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(
      /^attachment; filename="web-1-vera-.*\.cast"$/,
    );
    const cast = await response.text();
    expect(cast).toContain("haystack-split héllo 😀 100% done");

    const asciinema = await run("sh", ["-c", "command -v asciinema"]).then(
      (result) => result.stdout.trim(),
      () => "",
    );
    if (!asciinema) {
      context.skip(
        "asciinema is not installed: run scripts/install-system-packages.sh (Debian package asciinema)",
      );
      return;
    }
    const dir = await mkdtemp(path.join(tmpdir(), "hrec-dl-"));
    try {
      const file = path.join(dir, "download.cast");
      await writeFile(file, cast);
      // asciinema 2.2 reads keys from /dev/tty even for `cat`: give it a terminal with script(1).
      const { stdout } = await run("script", ["-qec", `${asciinema} cat ${file}`, "/dev/null"], {
        env: { ...process.env, LANG: "C.UTF-8" },
      });
      expect(stdout).toContain("haystack-split héllo 😀 100% done");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
