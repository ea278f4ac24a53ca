import { readFileSync } from "node:fs";
import http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuditService } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";

const STRONG = "a long and strong passphrase 9";
const SERVERS = "ocore.api.v1.ServerService";
const AUDIT = "ocore.api.v1.AuditService";

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly field: string | null;
  readonly text: string;
  readonly json: { code?: string; message?: string } | undefined;
}

/**
 * Bad input against the built server process (with its console), the way a script or a
 * mistaken client sends it. After each case the server must still answer /healthz at once, no
 * server may have been created, and the answer must say what is wrong (code, message, field).
 */
describe("bad input against the real server process", () => {
  let server: ServerProcess;
  let token: string;
  let serversBefore: number;

  const call = async (
    path: string,
    body: string | Uint8Array,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const response = await fetch(`${server.url}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
      body,
    });
    const text = await response.text();
    let json: Answer["json"];
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return {
      status: response.status,
      contentType: response.headers.get("content-type") ?? "",
      field: response.headers.get("x-ocore-field"),
      text,
      json,
    };
  };

  const countServers = async (): Promise<number> => {
    const answer = await call(`${SERVERS}/ListServers`, "{}");
    expect(answer.status, answer.text).toBe(200);
    return ((answer.json as { servers?: unknown[] }).servers ?? []).length;
  };

  const rssMiB = (): number => {
    const status = readFileSync(`/proc/${server.child.pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  };

  const expectRefused = (answer: Answer, code: string, field?: string) => {
    expect(answer.json?.code, answer.text.slice(0, 500)).toBe(code);
    expect(answer.json?.message ?? "").not.toBe("");
    expect(answer.text.length).toBeLessThan(2_000);
    if (field !== undefined) expect(answer.field).toBe(field);
  };

  beforeAll(async () => {
    server = await startServerProcess({ OCORE_CONSOLE: "on" });
    const auth = createClient(
      AuthService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    );
    const oneTime = server.firstAdminPassword();
    const first = await auth.login({ username: "admin", password: oneTime });
    const changed = await auth.changePassword(
      { currentPassword: oneTime, newPassword: STRONG },
      { headers: { authorization: `Bearer ${first.tokens?.accessToken}` } },
    );
    token = changed.tokens?.accessToken ?? "";
    server.rememberSecret(token, STRONG);
    serversBefore = await countServers();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  afterEach(async () => {
    const started = performance.now();
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await countServers()).toBe(serversBefore);
  });

  it("refuses a 50 MB body with resource_exhausted without holding it in memory", async () => {
    const before = rssMiB();
    const body = `{"name":"${"x".repeat(50 * 1024 * 1024)}"}`;
    const answer = await call(`${SERVERS}/CreateServer`, body);
    expect(answer.status).toBe(429);
    expectRefused(answer, "resource_exhausted");
    expect(answer.json?.message).toMatch(/1048576/);
    expect(rssMiB() - before).toBeLessThan(100);
  });

  it("refuses an anonymous 10 MB body as unauthenticated before reading it", async () => {
    const before = rssMiB();
    const body = `{"format":"DATA_FORMAT_CSV","data":"${"QUJD".repeat((10 * 1024 * 1024) / 4)}"}`;
    for (const rpc of ["ImportServers", "CreateServer"]) {
      const started = performance.now();
      const answer = await call(`${SERVERS}/${rpc}`, body, { authorization: "" });
      expect(answer.status).toBe(401);
      expectRefused(answer, "unauthenticated");
      expect(performance.now() - started).toBeLessThan(3_000);
    }
    expect(rssMiB() - before).toBeLessThan(100);
  });

  it("reads an import up to its own larger limit, and says what is wrong with the file", async () => {
    // Just over the import's own file limit (16 MB), which the request limit lets through.
    const big = Buffer.alloc(16 * 1024 * 1024 + 10, "a").toString("base64");
    const tooLarge = await call(`${SERVERS}/ImportServers`, `{"format":"DATA_FORMAT_CSV","data":"${big}"}`);
    expectRefused(tooLarge, "invalid_argument", "data");
    expect(tooLarge.json?.message).toMatch(/larger than 16 MB/);

    for (const csv of ["", "name,host,ssh_port,ssh_user,tags\n"]) {
      const data = Buffer.from(csv).toString("base64");
      const empty = await call(`${SERVERS}/ImportServers`, `{"format":"DATA_FORMAT_CSV","data":"${data}"}`);
      expectRefused(empty, "invalid_argument", "data");
      expect(empty.json?.message).toMatch(/no servers/);
    }
  });

  it("refuses unknown JSON fields and enum values, naming them", async () => {
    const typo = await call(
      `${SERVERS}/CreateServer`,
      JSON.stringify({ name: "typo", host: "10.9.9.9", sshport: 2222, password: "pw" }),
    );
    expect(typo.status).toBe(400);
    expectRefused(typo, "invalid_argument");
    expect(typo.json?.message).toMatch(/sshport/);

    const enumValue = await call(
      `${SERVERS}/ImportServers`,
      JSON.stringify({ format: "DATA_FORMAT_XML", data: "" }),
    );
    expectRefused(enumValue, "invalid_argument");
    expect(enumValue.json?.message).toMatch(/DATA_FORMAT_XML/);
  });

  it("names the field of a bad tag key in a header a client can read, and audits the refusal", async () => {
    const answer = await call(
      `${SERVERS}/CreateServer`,
      JSON.stringify({ name: "tagged", host: "10.9.9.9", password: "pw", tags: { 测: "x" } }),
    );
    expectRefused(answer, "invalid_argument", "tags");
    expect(answer.json?.message).toMatch(/key "测" is not allowed/);

    const value = await call(
      `${SERVERS}/CreateServer`,
      JSON.stringify({ name: "tagged", host: "10.9.9.9", password: "pw", tags: { env: "测" } }),
    );
    expectRefused(value, "invalid_argument", "tags.env");
  });

  it("refuses NUL in any string, naming the field, and records the refused change", async () => {
    const answer = await call(
      `${SERVERS}/CreateServer`,
      JSON.stringify({ name: "nul\u0000name", host: "10.9.9.9", password: "pw" }),
    );
    expectRefused(answer, "invalid_argument", "name");
    expect(answer.json?.message).toMatch(/NUL/);

    const mapKey = await call(
      `${SERVERS}/UpdateServer`,
      JSON.stringify({
        id: "00000000-0000-4000-8000-000000000000",
        tags: { env: "a\u0000b" },
        replaceTags: true,
      }),
    );
    expectRefused(mapKey, "invalid_argument", "tags.env");

    const nested = await call(
      "ocore.api.v1.UserService/CreateUser",
      JSON.stringify({ username: "someone", roleBindings: [{ role: "viewer", selector: "env=a\u0000" }] }),
    );
    expectRefused(nested, "invalid_argument", "roleBindings[0].selector");

    const audit = await call(
      `${AUDIT}/ListAuditEntries`,
      JSON.stringify({ filter: { action: "server.create" } }),
    );
    const entries = (audit.json as { entries?: { result: string; detail: string }[] }).entries ?? [];
    expect(entries.some((entry) => entry.result === "failure" && /^name: .*NUL/.test(entry.detail))).toBe(
      true,
    );
  });

  it("uses the JSON field names in errors and in x-ocore-field", async () => {
    const port = await call(
      `${SERVERS}/CreateServer`,
      JSON.stringify({ name: "port", host: "10.9.9.9", sshPort: 70000, password: "pw" }),
    );
    expectRefused(port, "invalid_argument", "sshPort");
    expect(port.json?.message).toMatch(/^sshPort: /);

    const token = await call(
      "ocore.api.v1.EnrollmentTokenService/CreateEnrollmentToken",
      JSON.stringify({ serverId: "nope" }),
    );
    expectRefused(token, "invalid_argument", "serverId");
  });

  it("refuses audit ids beyond what an id can be, exactly, in both audit RPCs", async () => {
    for (const id of ["9223372036854775808", "18446744073709551615", "9007199254740993"]) {
      const page = await call(`${AUDIT}/ListAuditEntries`, JSON.stringify({ beforeId: id }));
      expectRefused(page, "invalid_argument", "beforeId");
    }
    const audit = createClient(
      AuditService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    );
    const follow = async () => {
      for await (const _ of audit.followAuditLog(
        { afterId: 2n ** 63n },
        { headers: { authorization: `Bearer ${token}` } },
      )) {
        // no message is expected
      }
    };
    const error = await follow().then(
      () => undefined,
      (reason: unknown) => ConnectError.from(reason),
    );
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.metadata.get("x-ocore-field")).toBe("afterId");
  });

  it("answers a malformed binary message with invalid_argument, in Connect, gRPC and gRPC-Web", async () => {
    const connect = await call("ocore.api.v1.SystemService/GetInfo", new Uint8Array([0xff, 0xff, 0xff]), {
      "content-type": "application/proto",
    });
    expect(connect.status).toBe(400);
    expectRefused(connect, "invalid_argument");
    expect(connect.json?.message).toMatch(/not a valid protobuf message/);

    const grpc = await grpcCall(
      server.url,
      "/ocore.api.v1.SystemService/GetInfo",
      Buffer.from([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]),
    );
    expect(grpc.status).toBe(String(Code.InvalidArgument));
    expect(decodeURIComponent(grpc.message)).toMatch(/not a valid protobuf message/);

    // gRPC-Web carries the status in a trailer frame (flag 0x80) at the end of the body.
    const web = await fetch(`${server.url}/ocore.api.v1.SystemService/GetInfo`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: Buffer.from([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]),
    });
    const trailer = grpcWebTrailer(Buffer.from(await web.arrayBuffer()));
    expect(trailer["grpc-status"]).toBe(String(Code.InvalidArgument));
    expect(decodeURIComponent(trailer["grpc-message"] ?? "")).toMatch(/not a valid protobuf message/);
  });

  it("answers unknown procedures and content types in the client's protocol", async () => {
    const unknown = await call(`${SERVERS}/NoSuchThing`, "{}");
    expect(unknown.contentType).toMatch(/^application\/json/);
    expectRefused(unknown, "unimplemented");
    expect(unknown.json?.message).toMatch(/ocore\.api\.v1\.ServerService\/NoSuchThing/);

    const otherPackage = await call("acme.v1.Things/List", "{}", { "connect-protocol-version": "1" });
    expectRefused(otherPackage, "unimplemented");

    const grpc = await grpcCall(server.url, "/ocore.api.v1.NoSuch/Thing", Buffer.from([0, 0, 0, 0, 0]));
    expect(grpc.status).toBe(String(Code.Unimplemented));
    expect(decodeURIComponent(grpc.message)).toMatch(/NoSuch\/Thing is not a procedure/);

    const plain = await call("ocore.api.v1.SystemService/GetInfo", "{}", { "content-type": "text/plain" });
    expect(plain.status).toBe(415);
    expectRefused(plain, "invalid_argument");
    expect(plain.json?.message).toMatch(/text\/plain.*application\/json/);

    // Pages are still the console's.
    const page = await fetch(`${server.url}/no/such/page`);
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
  });

  it("answers a console address that does not decode with a 400 page", async () => {
    const page = await fetch(`${server.url}/servers/%zz`);
    expect(page.status).toBe(400);
    expect(await page.text()).toMatch(/not valid/);
  });

  it("keeps an invalid selector's echo short", async () => {
    const selector = `env in (${"a,".repeat(400_000)}`;
    const answer = await call(`${SERVERS}/ListServers`, JSON.stringify({ selector }));
    expectRefused(answer, "invalid_argument", "selector");
    const short = await call(
      `${SERVERS}/ListServers`,
      JSON.stringify({ selector: `env=${"é".repeat(5000)}` }),
    );
    expectRefused(short, "invalid_argument", "selector");
  });
});

/** The fields of the trailer frame (flag 0x80) of a gRPC-Web body. */
function grpcWebTrailer(body: Buffer): Record<string, string> {
  for (let offset = 0; offset + 5 <= body.length; ) {
    const flags = body[offset] ?? 0;
    const length = body.readUInt32BE(offset + 1);
    const data = body.subarray(offset + 5, offset + 5 + length);
    offset += 5 + length;
    if ((flags & 0x80) === 0) continue;
    return Object.fromEntries(
      data
        .toString("latin1")
        .split("\r\n")
        .filter((line) => line.includes(":"))
        .map((line) => {
          const colon = line.indexOf(":");
          return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
        }),
    );
  }
  return {};
}

/** One gRPC call over cleartext HTTP/2, returning the status from the trailers (or trailers-only headers). */
function grpcCall(url: string, path: string, body: Buffer): Promise<{ status: string; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
    });
    let status = "";
    let message = "";
    const take = (headers: http2.IncomingHttpHeaders) => {
      if (headers["grpc-status"] !== undefined) {
        status = String(headers["grpc-status"]);
        message = String(headers["grpc-message"] ?? "");
      }
    };
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("data", () => {});
    stream.on("end", () => {
      session.close();
      resolve({ status, message });
    });
    stream.on("error", reject);
    stream.end(body);
  });
}
