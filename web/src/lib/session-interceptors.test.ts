import {
  Code,
  ConnectError,
  type StreamRequest,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { CSRF_HEADER, createCsrfInterceptor, createRefreshInterceptor } from "./session-interceptors";

function fakeRequest(method: string, service = "ocore.api.v1.ServerService"): UnaryRequest {
  return {
    stream: false,
    header: new Headers(),
    service: { typeName: service },
    method: { name: method },
  } as unknown as UnaryRequest;
}
const ok = {} as UnaryResponse;
const unauthenticated = () => new ConnectError("expired", Code.Unauthenticated);

describe("createCsrfInterceptor", () => {
  it("echoes the CSRF cookie as a header", async () => {
    const next = vi.fn(async (_request: UnaryRequest | StreamRequest) => ok);
    await createCsrfInterceptor(() => "a=1; ocore_csrf=tok")(next)(fakeRequest("ListServers"));
    expect(next.mock.calls[0]?.[0].header.get(CSRF_HEADER)).toBe("tok");
  });

  it("sends no header without the cookie", async () => {
    const next = vi.fn(async (_request: UnaryRequest | StreamRequest) => ok);
    await createCsrfInterceptor(() => "")(next)(fakeRequest("ListServers"));
    expect(next.mock.calls[0]?.[0].header.has(CSRF_HEADER)).toBe(false);
  });
});

describe("createRefreshInterceptor", () => {
  it("refreshes once and repeats the call", async () => {
    const refresh = vi.fn(async () => ({}));
    const onSessionEnded = vi.fn();
    const next = vi.fn().mockRejectedValueOnce(unauthenticated()).mockResolvedValueOnce(ok);
    const call = createRefreshInterceptor({ refresh, onSessionEnded })(next);
    await expect(call(fakeRequest("ListServers"))).resolves.toBe(ok);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(onSessionEnded).not.toHaveBeenCalled();
  });

  it("shares one refresh between calls that fail together", async () => {
    const refresh = vi.fn(() => new Promise((resolve) => setTimeout(resolve, 5)));
    let failures = 2;
    const next = vi.fn(async () => {
      if (failures-- > 0) throw unauthenticated();
      return ok;
    });
    const call = createRefreshInterceptor({ refresh, onSessionEnded: vi.fn() })(next);
    await Promise.all([call(fakeRequest("ListServers")), call(fakeRequest("GetCurrentUser"))]);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it("ends the session when the refresh fails", async () => {
    const onSessionEnded = vi.fn();
    const next = vi.fn().mockRejectedValue(unauthenticated());
    const call = createRefreshInterceptor({ refresh: () => Promise.reject(new Error("no")), onSessionEnded })(
      next,
    );
    await expect(call(fakeRequest("ListServers"))).rejects.toThrow("expired");
    expect(onSessionEnded).toHaveBeenCalledTimes(1);
    expect(next).toHaveBeenCalledTimes(1);
  });

  it("leaves a failed login and other errors alone", async () => {
    const refresh = vi.fn(async () => ({}));
    const call = createRefreshInterceptor({ refresh, onSessionEnded: vi.fn() });
    await expect(
      call(vi.fn().mockRejectedValue(unauthenticated()))(fakeRequest("Login", "ocore.api.v1.AuthService")),
    ).rejects.toThrow();
    await expect(
      call(vi.fn().mockRejectedValue(new ConnectError("bad", Code.InvalidArgument)))(
        fakeRequest("ListServers"),
      ),
    ).rejects.toThrow("bad");
    expect(refresh).not.toHaveBeenCalled();
  });
});
