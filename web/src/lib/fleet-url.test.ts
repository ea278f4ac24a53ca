import { describe, expect, it } from "vitest";
import { DEFAULT_FLEET_VIEW, fleetViewSearch, parseFleetView } from "./fleet-url";

describe("the fleet view in the URL", () => {
  it("round-trips every field and leaves defaults out", () => {
    const view = {
      search: "web 1",
      status: "failed",
      selector: "env=prod",
      sort: "cpu desc",
      page: "abc.def",
    };
    const search = fleetViewSearch(view);
    expect(search).toBe("?q=web+1&status=failed&selector=env%3Dprod&sort=cpu+desc&page=abc.def");
    expect(parseFleetView(new URLSearchParams(search))).toEqual(view);
    expect(fleetViewSearch(DEFAULT_FLEET_VIEW)).toBe("");
  });

  it("ignores an unknown status or sort", () => {
    expect(parseFleetView(new URLSearchParams("status=sleeping&sort=size"))).toEqual(DEFAULT_FLEET_VIEW);
  });
});
