import { Writable } from "node:stream";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { SystemService } from "@ocore/proto/gen/ocore/api/v1/system_service_pb.js";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../platform/logging/logger.js";
import { createErrorInterceptor } from "./error-interceptor.js";
import { createRequestLogInterceptor, withPrincipal } from "./request-logger.js";

describe("the request logger", () => {
  it("puts the request id, procedure and principal on the API's log lines", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger(
      "debug",
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const transport = createRouterTransport(
      (router) =>
        router.service(SystemService, {
          getInfo: () => {
            throw new Error("disk on fire");
          },
        }),
      {
        router: {
          interceptors: [
            createRequestLogInterceptor(logger),
            createErrorInterceptor(logger),
            // Stands in for the auth interceptor, which names the caller the same way.
            (next) => (request) => {
              withPrincipal(request.contextValues, {
                kind: "user",
                id: "u-1",
                name: "alice",
              } as Parameters<typeof withPrincipal>[1]);
              return next(request);
            },
          ],
        },
      },
    );
    const client = createClient(SystemService, transport);
    await expect(client.getInfo({}, { headers: { "x-request-id": "req-42" } })).rejects.toThrow(/internal/);
    await expect(client.getInfo({})).rejects.toThrow(/internal/);
    const errors = lines.filter((line) => line.msg === "unexpected error in an API call");
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({
      requestId: "req-42",
      procedure: "ocore.api.v1.SystemService/GetInfo",
      principal: "user:alice",
      err: { message: "disk on fire" },
    });
    expect(errors[1]?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.filter((line) => line.msg === "API call refused or failed")).toMatchObject([
      { requestId: "req-42", code: "Internal" },
      { requestId: errors[1]?.requestId, code: "Internal" },
    ]);
  });
});
