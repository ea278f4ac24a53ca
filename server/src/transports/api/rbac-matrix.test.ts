import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiServices, procedureOf } from "../../../test/support/api-descriptors.js";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { builtinRoles, type Permission } from "../../domain/auth/permissions.js";
import { rpcPolicies } from "./rpc-policies.js";

/** Calls any method with an empty request and reports the resulting code ("ok" when it answered). */
async function callEmpty(harness: ApiHarness, method: DescMethod, token: string): Promise<Code | "ok"> {
  const client = createClient(
    method.parent,
    harness.transport({ authorization: `Bearer ${token}` }),
  ) as unknown as Record<string, (request: object, options?: object) => unknown>;
  const call = client[method.localName];
  if (!call) throw new Error(`no client method for ${procedureOf(method)}`);
  try {
    if (method.methodKind === "server_streaming") {
      const stream = call.call(client, {}, { signal: AbortSignal.timeout(500) }) as AsyncIterable<unknown>;
      for await (const _ of stream) break;
    } else {
      await call.call(client, {});
    }
    return "ok";
  } catch (error) {
    const code = ConnectError.from(error).code;
    // Following a live feed that was allowed ends by our own timeout.
    return code === Code.Canceled || code === Code.DeadlineExceeded ? "ok" : code;
  }
}

// Sessions are exercised by their own tests: calling Logout here would end the caller's session.
const selfService = (procedure: string) => procedure.startsWith("ocore.api.v1.AuthService/");

describe("permission matrix: every built-in role × every RPC of the contract", async () => {
  const methods = (await apiServices())
    .flatMap((service) => service.methods)
    .filter((m) => !selfService(procedureOf(m)));
  let harness: ApiHarness;
  const tokens = new Map<string, string>();
  beforeAll(async () => {
    harness = await createApiHarness("pglite");
    tokens.set("owner", await harness.ownerToken());
    for (const role of builtinRoles.filter((r) => r.name !== "owner")) {
      tokens.set(
        role.name,
        await harness.userToken(`${role.name}-user`, [{ role: role.name, selector: "" }]),
      );
    }
  });
  afterAll(() => harness.close());

  const cases = builtinRoles.flatMap((role) =>
    methods.map((method) => [role.name, procedureOf(method), method, role] as const),
  );
  it.each(cases)("%s → %s", async (roleName, procedure, method, role) => {
    const access = rpcPolicies[procedure]?.access;
    const allowed =
      access === "public" || access === "authenticated" || role.permissions.includes(access as Permission);
    const code = await callEmpty(harness, method, tokens.get(roleName) ?? "");
    if (allowed)
      expect(code, `${roleName} should pass the permission check of ${procedure}`).not.toBe(
        Code.PermissionDenied,
      );
    else expect(code).toBe(Code.PermissionDenied);
  });

  it("refuses every RPC without credentials except the public ones", async () => {
    for (const method of methods) {
      const procedure = procedureOf(method);
      const client = createClient(method.parent, harness.transport()) as unknown as Record<
        string,
        (r: object) => unknown
      >;
      const code = await (async () => {
        try {
          const result = client[method.localName]?.call(client, {});
          if (method.methodKind === "server_streaming")
            for await (const _ of result as AsyncIterable<unknown>) break;
          else await result;
          return "ok";
        } catch (error) {
          return ConnectError.from(error).code;
        }
      })();
      if (rpcPolicies[procedure]?.access === "public") expect(code).not.toBe(Code.Unauthenticated);
      else expect(code, procedure).toBe(Code.Unauthenticated);
    }
  });
});
