import { describe, expect, it } from "vitest";
import { isThemePreference, THEME_INIT_SCRIPT, THEME_STORAGE_KEY } from "./theme";

/** Runs the inline script against a fake document and storage; returns the classes it set. */
function runInitScript(getItem: (key: string) => string | null): string[] {
  const classes: string[] = [];
  const document = { documentElement: { classList: { add: (name: string) => classes.push(name) } } };
  new Function("localStorage", "document", THEME_INIT_SCRIPT)({ getItem }, document);
  return classes;
}

describe("THEME_INIT_SCRIPT", () => {
  it("applies a saved light or dark theme", () => {
    expect(runInitScript((key) => (key === THEME_STORAGE_KEY ? "dark" : null))).toEqual(["dark"]);
    expect(runInitScript((key) => (key === THEME_STORAGE_KEY ? "light" : null))).toEqual(["light"]);
  });

  it("leaves the system theme when nothing or garbage is saved", () => {
    expect(runInitScript(() => null)).toEqual([]);
    expect(runInitScript(() => "dark; color: red")).toEqual([]);
  });

  it("does not throw when storage is blocked", () => {
    expect(
      runInitScript(() => {
        throw new Error("SecurityError");
      }),
    ).toEqual([]);
  });
});

describe("isThemePreference", () => {
  it("accepts only the known preferences", () => {
    expect(["system", "light", "dark"].every(isThemePreference)).toBe(true);
    expect(isThemePreference("Dark")).toBe(false);
    expect(isThemePreference(null)).toBe(false);
  });
});
