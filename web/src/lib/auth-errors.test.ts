import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { describeLoginError, describePasswordChangeError } from "./auth-errors";

describe("describeLoginError", () => {
  it("says the credentials are wrong without saying which", () => {
    expect(describeLoginError(new ConnectError("wrong username or password", Code.Unauthenticated))).toBe(
      "Wrong username or password.",
    );
  });

  it("gives a locked account's message as the server wrote it", () => {
    const error = new ConnectError(
      "the account is locked after repeated failed logins until 2026-01-01T00:15:00.000Z; an admin can reset its password",
      Code.ResourceExhausted,
    );
    expect(describeLoginError(error)).toBe(
      "The account is locked after repeated failed logins until 2026-01-01T00:15:00.000Z; an admin can reset its password.",
    );
  });

  it("says when the server is unreachable", () => {
    expect(describeLoginError(ConnectError.from(new TypeError("Failed to fetch")))).toMatch(/did not answer/);
  });

  it("reports other server errors with their code", () => {
    expect(describeLoginError(new ConnectError("database is locked", Code.Internal))).toBe(
      "The control server answered with an error: [internal] database is locked.",
    );
  });
});

describe("describePasswordChangeError", () => {
  it("gives the server's reason for a refused password", () => {
    const error = new ConnectError("must differ from the current password", Code.InvalidArgument, {
      "x-ocore-field": "newPassword",
    });
    expect(describePasswordChangeError(error)).toBe(
      "The new password must differ from the current password.",
    );
  });
});
