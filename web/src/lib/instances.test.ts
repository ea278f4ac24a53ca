import { describe, expect, it } from "vitest";
import { checkInstanceName, instanceActions, instanceLinks, isTransitional } from "./instances";

describe("instances", () => {
  it("offers the actions that fit the state", () => {
    expect(instanceActions("running")).toEqual({ start: false, stop: true, restart: true, remove: true });
    expect(instanceActions("stopped")).toEqual({ start: true, stop: false, restart: false, remove: true });
    expect(instanceActions("creating").remove).toBe(false);
    expect(isTransitional("creating")).toBe(true);
    expect(isTransitional("running")).toBe(false);
  });

  it("links the ports on the server's address", () => {
    expect(instanceLinks({ webPort: 20000, mailpitPort: 20002 }, "10.0.0.5")).toEqual([
      { label: "Odoo", port: 20000, href: "http://10.0.0.5:20000/" },
      { label: "Mailpit", port: 20002, href: "http://10.0.0.5:20002/" },
    ]);
    expect(instanceLinks({ webPort: 20000, mailpitPort: 0 }, "::1")[0]?.href).toBe("http://[::1]:20000/");
  });

  it("checks names like the server", () => {
    expect(checkInstanceName("shop-prod")).toBeUndefined();
    expect(checkInstanceName("Shop")).toMatch(/lowercase/);
  });
});
