import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";

const STRONG = "a long and strong passphrase 9";

/** A browser-like session: its cookies after signing in through the API (JSON Connect calls). */
class Session {
  cookies = new Map<string, string>();
  constructor(private readonly url: string) {}
  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
  async call(path: string, body: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.url}/ocore.api.v1.${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        cookie: this.cookieHeader,
        "x-ocore-csrf": this.cookies.get("ocore_csrf") ?? "",
      },
      body: JSON.stringify(body),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const index = pair.indexOf("=");
      this.cookies.set(pair.slice(0, index), pair.slice(index + 1));
    }
    const answer = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  }
  async signIn(username: string, password: string, newPassword?: string): Promise<void> {
    await this.call("AuthService/Login", { username, password });
    if (newPassword) {
      await this.call("AuthService/ChangePassword", { currentPassword: password, newPassword });
    }
  }
}

interface Outcome {
  status?: number;
  body?: string;
  closeCode?: number;
  closeReason?: string;
  messages: Array<Record<string, unknown>>;
  text: string;
}

/** Opens the terminal socket, sends `frames` once open, and resolves when it closes (or is refused). */
function terminal(
  url: string,
  options: { cookie?: string; origin?: string; csrf?: string; frames?: Array<string | Buffer> },
): Promise<Outcome> {
  const address = `${url.replace(/^http/, "ws")}/api/terminal${options.csrf === undefined ? "" : `?csrf=${encodeURIComponent(options.csrf)}`}`;
  const ws = new WebSocket(address, {
    headers: options.cookie ? { cookie: options.cookie } : {},
    origin: options.origin ?? url,
  });
  const outcome: Outcome = { messages: [], text: "" };
  return new Promise((resolve) => {
    ws.on("unexpected-response", (_request, response) => {
      outcome.status = response.statusCode;
      let body = "";
      response.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on("end", () => resolve({ ...outcome, body }));
    });
    ws.on("open", () => {
      for (const frame of options.frames ?? []) ws.send(frame, { binary: Buffer.isBuffer(frame) });
    });
    ws.on("message", (data: Buffer, isBinary) => {
      if (isBinary) outcome.text += data.toString();
      else outcome.messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
    });
    ws.on("close", (code, reason) =>
      resolve({ ...outcome, closeCode: code, closeReason: reason.toString() }),
    );
    ws.on("error", () => {});
  });
}

/**
 * The console terminal's WebSocket against the real server process: who is refused before the
 * upgrade (no cookie, another site's Origin, no CSRF token), and what a signed-in client that
 * sends bad frames or asks for a server it may not reach gets.
 */
describe("the console terminal's WebSocket refuses what it must", () => {
  let server: ServerProcess;
  const admin = { session: undefined as unknown as Session };
  const viewer = { session: undefined as unknown as Session };
  const operator = { session: undefined as unknown as Session };

  beforeAll(async () => {
    server = await startServerProcess();
    admin.session = new Session(server.url);
    await admin.session.signIn("admin", server.firstAdminPassword(), STRONG);
    const created = (await admin.session.call("UserService/CreateUser", {
      username: "vera",
      roleBindings: [{ role: "viewer" }],
    })) as { oneTimePassword: string };
    viewer.session = new Session(server.url);
    await viewer.session.signIn("vera", created.oneTimePassword, STRONG);
    const operatorCreated = (await admin.session.call("UserService/CreateUser", {
      username: "otto",
      roleBindings: [{ role: "operator", sshLogins: ["odoo", "deploy"] }],
    })) as { oneTimePassword: string };
    operator.session = new Session(server.url);
    await operator.session.signIn("otto", operatorCreated.oneTimePassword, STRONG);
    const data = Buffer.from(JSON.stringify([{ name: "not-yet", host: "192.0.2.10" }])).toString("base64");
    await admin.session.call("ServerService/ImportServers", { format: "DATA_FORMAT_JSON", data });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  const signedIn = (session: Session) => ({
    cookie: session.cookieHeader,
    csrf: session.cookies.get("ocore_csrf") ?? "",
  });

  it("refuses the upgrade without a session cookie, from another origin, or without the CSRF token", async () => {
    const none = await terminal(server.url, { csrf: "x" });
    expect(none.status).toBe(401);
    expect(none.body).toContain("sign in");

    const otherSite = await terminal(server.url, {
      ...signedIn(admin.session),
      origin: "https://evil.example",
    });
    expect(otherSite.status).toBe(403);
    expect(otherSite.body).toContain("this console's own pages");

    const noCsrf = await terminal(server.url, { cookie: admin.session.cookieHeader });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body).toContain("CSRF");

    const audit = (await admin.session.call("AuditService/ListAuditEntries", {
      filter: { action: "access.denied" },
      limit: 50,
    })) as { entries: Array<{ action: string; detail: string }> };
    const details = audit.entries
      .filter((event) => event.action === "access.denied")
      .map((event) => event.detail);
    expect(details.some((detail) => detail.includes("/api/terminal: the Origin"))).toBe(true);
  });

  it("closes on a bad frame: not JSON, binary, out-of-range size, input before start, too large", async () => {
    const cases: Array<[Array<string | Buffer>, number, string]> = [
      [["not json"], 1008, "not JSON"],
      [[Buffer.from("ls\n")], 1008, "binary frames"],
      [[JSON.stringify({ type: "start", server: "web-1", cols: 100_000, rows: 24 })], 1008, "cols"],
      [[JSON.stringify({ type: "start", server: "../etc", cols: 80, rows: 24 })], 1008, "server"],
      [[JSON.stringify({ type: "input", data: "ls\n" })], 1008, "before the session started"],
      [
        [JSON.stringify({ type: "start", server: "web-1", cols: 80, rows: 24, extra: 1 })],
        1008,
        "bad message",
      ],
      [[JSON.stringify({ type: "input", data: "x".repeat(70_000) })], 1009, ""],
    ];
    for (const [frames, code, words] of cases) {
      const outcome = await terminal(server.url, { ...signedIn(admin.session), frames });
      expect(outcome.closeCode, JSON.stringify(frames).slice(0, 80)).toBe(code);
      if (words) expect(outcome.messages.map((message) => message.message).join(" ")).toContain(words);
    }
  });

  it("gives a viewer and an unknown server the same refusal, on the terminal, audited", async () => {
    const start = JSON.stringify({ type: "start", server: "web-1", cols: 80, rows: 24 });
    const asViewer = await terminal(server.url, { ...signedIn(viewer.session), frames: [start] });
    const asAdmin = await terminal(server.url, { ...signedIn(admin.session), frames: [start] });
    for (const outcome of [asViewer, asAdmin]) {
      expect(outcome.messages).toContainEqual({
        type: "notice",
        message: 'no server "web-1" that you may reach over SSH',
      });
      expect(outcome.text).toContain('oCore: no server "web-1" that you may reach over SSH');
      expect(outcome.messages).toContainEqual({ type: "exit", code: 255 });
    }
    const audit = (await admin.session.call("AuditService/ListAuditEntries", {
      filter: { action: "ssh.refused" },
      limit: 50,
    })) as { entries: Array<{ actorName: string; result: string }> };
    expect(audit.entries.map((entry) => entry.actorName).sort()).toEqual(["admin", "vera"]);
    expect(audit.entries.every((entry) => entry.result === "denied")).toBe(true);
  });

  it("offers the logins a binding allows, then says why a server without an agent cannot be reached", async () => {
    const start = (login?: string) =>
      JSON.stringify({ type: "start", server: "not-yet", cols: 80, rows: 24, ...(login ? { login } : {}) });
    const ws = new WebSocket(
      `${server.url.replace(/^http/, "ws")}/api/terminal?csrf=${operator.session.cookies.get("ocore_csrf")}`,
      {
        headers: { cookie: operator.session.cookieHeader },
        origin: server.url,
      },
    );
    const messages: Array<Record<string, unknown>> = [];
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    ws.on("message", (data: Buffer, isBinary) => {
      if (!isBinary) messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
      if (messages.at(-1)?.type === "logins") ws.send(start("odoo"));
    });
    await new Promise((resolve) => ws.once("open", resolve));
    ws.send(start());
    expect(await closed).toBe(1000);
    expect(messages[0]).toEqual({ type: "logins", logins: ["deploy", "odoo"] });
    expect(messages).toContainEqual({
      type: "notice",
      message: "not-yet is pending; the SSH gateway reaches a server once its agent is installed",
    });
  });
});
