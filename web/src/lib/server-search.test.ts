import { describe, expect, it } from "vitest";
import { matchesServerSearch } from "./server-search";

const server = { name: "web-1", host: "10.0.0.5", sshPort: 22 };

describe("matchesServerSearch", () => {
  it("matches everything for an empty query", () => {
    expect(matchesServerSearch(server, "  ")).toBe(true);
  });

  it("matches name or host, ignoring case", () => {
    expect(matchesServerSearch(server, "WEB")).toBe(true);
    expect(matchesServerSearch(server, "10.0.0")).toBe(true);
    expect(matchesServerSearch(server, "5:22")).toBe(true);
  });

  it("needs every word to match", () => {
    expect(matchesServerSearch(server, "web 10.0")).toBe(true);
    expect(matchesServerSearch(server, "web db")).toBe(false);
  });
});
