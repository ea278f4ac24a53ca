import { describe, expect, it } from "vitest";
import {
  instancePortBindings,
  LOOPBACK,
  MAILPIT_WEB_PORT,
  ODOO_LONGPOLLING_PORT,
  ODOO_WEB_PORT,
} from "./instance-layout.js";

describe("instancePortBindings", () => {
  const ports = instancePortBindings(20_000);

  it("publishes Mailpit's web UI on loopback only: it has no login and shows every captured email", () => {
    expect(ports.mail).toEqual({ [`${MAILPIT_WEB_PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: "20002" }] });
  });

  it("publishes Odoo longpolling on loopback and the web port on every interface", () => {
    expect(ports.odoo[`${ODOO_LONGPOLLING_PORT}/tcp`]).toEqual([{ HostIp: LOOPBACK, HostPort: "20001" }]);
    expect(ports.odoo[`${ODOO_WEB_PORT}/tcp`]).toEqual([{ HostPort: "20000" }]);
  });

  it("binds every published port to an address only where the decision says so", () => {
    const all = [...Object.values(ports.odoo), ...Object.values(ports.mail)].flat();
    expect(all.map((binding) => [binding.HostPort, binding.HostIp ?? "all"])).toEqual([
      ["20000", "all"],
      ["20001", "127.0.0.1"],
      ["20002", "127.0.0.1"],
    ]);
  });
});
