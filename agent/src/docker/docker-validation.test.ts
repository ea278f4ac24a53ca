import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { pumpDockerStream } from "./docker-streams.js";
import { checkImageRef, checkPorts, pullReference } from "./docker-validation.js";

describe("image references", () => {
  const digest = `sha256:${"a".repeat(64)}`;

  it("accepts what Docker accepts", () => {
    for (const reference of [
      "odoo",
      "odoo:17.0",
      "library/postgres:16-alpine",
      "ghcr.io/org/app:v1.2-rc_3",
      `registry.example.com:5000/team/odoo@${digest}`,
      "localhost/odoo:17",
      "[::1]:5000/odoo:1",
      "a.b-c__d/e:TAG",
      digest,
    ]) {
      expect(checkImageRef(reference), reference).toBe(reference);
    }
  });

  it("refuses what Docker would refuse", () => {
    for (const reference of [
      "Odoo",
      "odoo:",
      ":17",
      "odoo:-x",
      "a//b",
      "odoo:17 0",
      "-odoo",
      "odoo@sha256:zz",
      "odoo/",
    ]) {
      expect(() => checkImageRef(reference), reference).toThrow(/not a valid image reference/);
    }
  });

  it("pulls the latest tag when none is named", () => {
    expect(pullReference("odoo")).toBe("odoo:latest");
    expect(pullReference("registry.example.com:5000/odoo")).toBe("registry.example.com:5000/odoo:latest");
    expect(pullReference("registry.example.com:5000/odoo:17")).toBe("registry.example.com:5000/odoo:17");
    expect(pullReference(`odoo@sha256:${"b".repeat(64)}`)).toBe(`odoo@sha256:${"b".repeat(64)}`);
  });
});

describe("ports", () => {
  it("maps published ports to Docker's bindings, 0 picking a free host port", () => {
    expect(
      checkPorts([
        { containerPort: 8069, protocol: "", hostIp: "127.0.0.1", hostPort: 8069 },
        { containerPort: 8072, protocol: "tcp", hostIp: "", hostPort: 0 },
      ]),
    ).toEqual({
      exposed: { "8069/tcp": {}, "8072/tcp": {} },
      bindings: {
        "8069/tcp": [{ HostIp: "127.0.0.1", HostPort: "8069" }],
        "8072/tcp": [{ HostIp: "", HostPort: "" }],
      },
    });
    expect(() =>
      checkPorts([{ containerPort: 80, protocol: "tcp", hostIp: "example.com", hostPort: 80 }]),
    ).toThrow(/not an IP address/);
  });
});

describe("Docker's multiplexed stream", () => {
  const frame = (kind: 1 | 2, text: string) => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = kind;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };

  it("splits frames into stdout and stderr even when chunks cut through headers", async () => {
    const bytes = Buffer.concat([frame(1, "out one\n"), frame(2, "err\n"), frame(1, "out two\n")]);
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 13), bytes.subarray(13, 21), bytes.subarray(21)];
    const seen: string[] = [];
    await pumpDockerStream(Readable.from(chunks), false, async (stream, data) => {
      seen.push(`${stream}:${Buffer.from(data).toString()}`);
    });
    expect(seen).toEqual(["stdout:out one\n", "stderr:err\n", "stdout:out two\n"]);
  });

  it("joins the frames of one stream that arrive in one read", async () => {
    const lines = Array.from({ length: 1000 }, (_, index) => frame(1, `line ${index}\n`));
    const seen: Array<[string, number]> = [];
    await pumpDockerStream(
      Readable.from([Buffer.concat([...lines, frame(2, "oops\n")])]),
      false,
      async (stream, data) => {
        seen.push([stream, data.length]);
      },
    );
    const stdoutBytes = lines.reduce((sum, line) => sum + line.length - 8, 0);
    expect(seen).toEqual([
      ["stdout", stdoutBytes],
      ["stderr", 5],
    ]);
  });

  it("passes a TTY's raw stream through as stdout", async () => {
    const seen: string[] = [];
    await pumpDockerStream(Readable.from([Buffer.from("\u0001raw")]), true, async (stream, data) => {
      seen.push(`${stream}:${Buffer.from(data).toString()}`);
    });
    expect(seen).toEqual(["stdout:\u0001raw"]);
  });
});
