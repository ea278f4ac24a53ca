import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BackupTransferService } from "@ocore/proto/gen/ocore/agent/v1/backup_transfer_service_pb.js";
import { EnrollmentService } from "@ocore/proto/gen/ocore/agent/v1/enrollment_service_pb.js";
import { describe, expect, it } from "vitest";
import { createTestCa, issueServerCertificate } from "../test/test-pki.js";
import { gatewayTarget, openGatewayClient } from "./gateway-client.js";
import { parseServerAddress } from "./server-address.js";

/** The options grpc-js resolved for a client's channel (not public API; pinned grpc-js version). */
function channelOptionsOf(client: { getChannel(): unknown }): Record<string, unknown> {
  const channel = client.getChannel() as { internalChannel?: { options?: Record<string, unknown> } };
  const options = channel.internalChannel?.options;
  if (!options) throw new Error("grpc-js no longer exposes the channel's options here: update this test");
  return options;
}

describe("the gateway client", () => {
  it("brackets IPv6 hosts in the target", () => {
    expect(gatewayTarget(parseServerAddress("ocore.example:8443"))).toBe("ocore.example:8443");
    expect(gatewayTarget(parseServerAddress("[::1]:8443"))).toBe("[::1]:8443");
  });

  it("gives side channels the stream's keepalive, with or without a client certificate", async () => {
    const ca = await createTestCa();
    const pair = await issueServerCertificate(ca);
    const address = parseServerAddress("127.0.0.1:1");
    const enrollment = openGatewayClient(EnrollmentService, address, { caPem: ca.certificatePem });
    const transfer = openGatewayClient(BackupTransferService, address, {
      caPem: ca.certificatePem,
      keyPem: pair.keyPem,
      certificatePem: pair.certificatePem,
    });
    try {
      for (const { client } of [enrollment, transfer]) {
        expect(channelOptionsOf(client)).toMatchObject({
          "grpc.keepalive_time_ms": 30_000,
          "grpc.keepalive_timeout_ms": 10_000,
          "grpc.keepalive_permit_without_calls": 1,
        });
      }
      expect(transfer.methods.upload.path).toBe("/ocore.agent.v1.BackupTransferService/Upload");
    } finally {
      enrollment.close();
      transfer.close();
    }
  });

  it("is the only place in the agent that builds a gRPC client", async () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
    const files = (await readdir(root, { recursive: true })).filter(
      (file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && !file.startsWith("test/"),
    );
    const builders: string[] = [];
    for (const file of files) {
      const text = await readFile(path.join(root, file), "utf8");
      if (/new grpc\.Client\(|makeGenericClientConstructor|new Client\(/.test(text)) builders.push(file);
    }
    expect(builders).toEqual([path.join("connection", "gateway-client.ts")]);
  });
});
