import { describe, expect, it } from "vitest";
import { ACCESS_COOKIE, CSRF_COOKIE, parseCookies, REFRESH_COOKIE, sessionCookies } from "./cookies.js";

describe("cookies", () => {
  it("reads a Cookie header, decoding values and keeping the first of a repeated name", () => {
    expect(parseCookies("a=1; b=x%20y;c=%E0%A4%A; a=2; =nameless; flag")).toEqual({
      a: "1",
      b: "x y",
      c: "%E0%A4%A",
    });
    expect(parseCookies(null)).toEqual({});
  });

  it("writes the three session cookies with their attributes", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const [access, refresh, csrf] = sessionCookies(
      {
        accessToken: "a b",
        accessExpiresAt: new Date(now.getTime() + 900_000),
        refreshToken: "r",
        refreshExpiresAt: new Date(now.getTime() + 86_400_000),
        csrf: "c",
      },
      now,
      true,
    );
    const attributes = (cookie = "") => new Set(cookie.split("; ").slice(1));
    expect(access?.split("; ")[0]).toBe(`${ACCESS_COOKIE}=a%20b`);
    expect(attributes(access)).toEqual(
      new Set(["Max-Age=900", "Path=/", "HttpOnly", "Secure", "SameSite=Strict"]),
    );
    expect(refresh?.split("; ")[0]).toBe(`${REFRESH_COOKIE}=r`);
    expect(attributes(refresh)).toContain("Path=/ocore.api.v1.AuthService/");
    expect(csrf?.split("; ")[0]).toBe(`${CSRF_COOKIE}=c`);
    expect(attributes(csrf)).not.toContain("HttpOnly");
    expect(attributes(csrf)).toContain("Max-Age=86400");
  });
});
