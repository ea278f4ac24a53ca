import { describe, expect, it } from "vitest";
import {
  describeClose,
  inputFrames,
  MAX_INPUT_CHARS,
  parseServerMessage,
  resizeFrame,
  sshConnectHints,
  startFrame,
  terminalUrl,
} from "./terminal";

describe("terminal protocol (console side)", () => {
  it("uses wss on https pages and puts the CSRF token in the query", () => {
    expect(terminalUrl({ protocol: "https:", host: "ocore.example:8443" }, "a b")).toBe(
      "wss://ocore.example:8443/api/terminal?csrf=a%20b",
    );
    expect(terminalUrl({ protocol: "http:", host: "127.0.0.1:8080" }, "t")).toBe(
      "ws://127.0.0.1:8080/api/terminal?csrf=t",
    );
  });

  it("reads the server's messages and ignores anything else", () => {
    expect(parseServerMessage('{"type":"logins","logins":["odoo","root"]}')).toEqual({
      type: "logins",
      logins: ["odoo", "root"],
    });
    expect(parseServerMessage('{"type":"exit","code":null}')).toEqual({ type: "exit", code: null });
    expect(parseServerMessage('{"type":"exit","code":"0"}')).toBeUndefined();
    expect(parseServerMessage('{"type":"logins","logins":[1]}')).toBeUndefined();
    expect(parseServerMessage("not json")).toBeUndefined();
    expect(parseServerMessage("null")).toBeUndefined();
  });

  it("clamps sizes to what the server accepts", () => {
    expect(JSON.parse(startFrame("web-1", undefined, 0, 99_999))).toEqual({
      type: "start",
      server: "web-1",
      cols: 1,
      rows: 500,
    });
    expect(JSON.parse(resizeFrame(120.7, 40))).toEqual({ type: "resize", cols: 120, rows: 40 });
  });

  it("cuts a long paste into frames the server accepts, never inside a surrogate pair", () => {
    const paste = `${"a".repeat(MAX_INPUT_CHARS - 1)}😀${"b".repeat(10)}`;
    const frames = inputFrames(paste).map((frame) => (JSON.parse(frame) as { data: string }).data);
    expect(frames.join("")).toBe(paste);
    expect(frames.every((data) => data.length <= MAX_INPUT_CHARS)).toBe(true);
    expect(frames[0]?.length).toBe(MAX_INPUT_CHARS - 1);
    expect(inputFrames("")).toEqual([]);
  });

  it("explains a close and builds the ssh command from the known_hosts line", () => {
    expect(describeClose(1008, "bad message: cols")).toBe("bad message: cols");
    expect(describeClose(1006, "")).toContain("lost or refused");
    expect(sshConnectHints("[gw.example]:2222 ssh-ed25519 AAAA", "alice", "web-1")).toEqual({
      host: "gw.example",
      port: 2222,
      command: "ssh -p 2222 alice+web-1@gw.example",
    });
    expect(sshConnectHints("gw.example ssh-ed25519 AAAA", "alice", "web-1")?.command).toBe(
      "ssh alice+web-1@gw.example",
    );
    expect(sshConnectHints("", "alice", "web-1")).toBeUndefined();
  });
});
