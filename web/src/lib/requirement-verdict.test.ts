import { describe, expect, it } from "vitest";
import { acceptanceHint, linkParts } from "./requirement-verdict";

describe("requirement verdicts in the console", () => {
  const docker = { id: "docker", verdict: "fail", accepted: false };

  it("says next to a failed Docker verdict how to accept it and go ahead", () => {
    expect(acceptanceHint(docker, true)).toBe(
      "Fix it on the host and retry, or tick it under “Go ahead without these requirements” below and retry to accept it.",
    );
    expect(acceptanceHint({ ...docker, accepted: true }, true)).toBeUndefined();
    expect(acceptanceHint({ ...docker, verdict: "warn" }, true)).toBeUndefined();
    expect(acceptanceHint(docker, false)).toBeUndefined();
    expect(acceptanceHint({ id: "memory", verdict: "fail", accepted: false }, true)).toBe(
      "Fix the cause on the host, then retry.",
    );
  });

  it("makes the install guide in a verdict a link", () => {
    const message =
      "Install it from Docker's own apt repository (https://docs.docker.com/engine/install/debian/; it replaces the system's docker.io package), then retry.";
    expect(linkParts(message)).toEqual([
      { text: "Install it from Docker's own apt repository (" },
      {
        text: "https://docs.docker.com/engine/install/debian/",
        href: "https://docs.docker.com/engine/install/debian/",
      },
      { text: "; it replaces the system's docker.io package), then retry." },
    ]);
    expect(linkParts("no link")).toEqual([{ text: "no link" }]);
  });
});
