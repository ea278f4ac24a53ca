import { describe, expect, it } from "vitest";
import { apiServices, isMutating, procedureOf } from "../../../test/support/api-descriptors.js";
import { builtinRoles, type Permission } from "../../domain/auth/permissions.js";
import { rpcPolicies } from "./rpc-policies.js";

const services = await apiServices();
const methods = services.flatMap((service) => service.methods);
const viewer = new Set<string>(builtinRoles.find((role) => role.name === "viewer")?.permissions ?? []);

describe("the RPC policy table", () => {
  it("covers the whole contract", () => {
    expect(services.map((service) => service.typeName)).toContain("ocore.api.v1.SystemService");
    expect(methods.length).toBeGreaterThan(20);
  });

  it.each(methods.map((method) => [procedureOf(method), method] as const))(
    "declares %s",
    (procedure, method) => {
      const policy = rpcPolicies[procedure];
      expect(policy, `${procedure} has no entry in api/rpc-policies.ts`).toBeDefined();
      if (isMutating(method) && policy?.access !== "public") {
        expect(policy?.action, `${procedure} changes state and needs an audit action`).toBeTruthy();
      }
    },
  );

  it("declares nothing that is not in the contract", () => {
    const procedures = new Set(methods.map(procedureOf));
    expect(Object.keys(rpcPolicies).filter((procedure) => !procedures.has(procedure))).toEqual([]);
  });

  it.each(methods.filter(isMutating).map((method) => [procedureOf(method)] as const))(
    "does not let a viewer call the mutating %s",
    (procedure) => {
      const access = rpcPolicies[procedure]?.access;
      // Signing in and out, changing one's own password and one's own SSH keys are not changes
      // to the fleet (a key opens nothing without servers.ssh).
      const selfService = ["public", "authenticated"].includes(access ?? "");
      const selfServiceProcedures = [
        "ocore.api.v1.AuthService/Login",
        "ocore.api.v1.AuthService/Refresh",
        "ocore.api.v1.AuthService/Logout",
        "ocore.api.v1.AuthService/ChangePassword",
        "ocore.api.v1.SshKeyService/AddSshKey",
        "ocore.api.v1.SshKeyService/DeleteSshKey",
      ];
      // Asking a diagnosis question stores the caller's own conversation; it reads only what
      // the caller may see and changes nothing on any server (issue 18: a viewer may diagnose).
      const viewerOwnRecords = ["ocore.api.v1.DiagnosisService/Diagnose"];
      if (selfService) expect(selfServiceProcedures).toContain(procedure);
      else if (viewerOwnRecords.includes(procedure)) expect(viewer.has(access as Permission)).toBe(true);
      else expect(viewer.has(access as Permission)).toBe(false);
    },
  );
});
