import { describe, expect, it } from "vitest";
import { isSameOrigin, MAX_COLS, parseClientMessage } from "./terminal-protocol.js";

describe("console terminal frames", () => {
  it("accepts the three messages and nothing more", () => {
    expect(parseClientMessage('{"type":"start","server":"web-1","cols":80,"rows":24}', false)).toEqual({
      message: { type: "start", server: "web-1", cols: 80, rows: 24 },
    });
    expect(
      parseClientMessage('{"type":"start","server":"web-1","login":"odoo","cols":80,"rows":24}', false),
    ).toMatchObject({ message: { login: "odoo" } });
    expect(parseClientMessage('{"type":"input","data":"ls\\n"}', false)).toEqual({
      message: { type: "input", data: "ls\n" },
    });
    expect(parseClientMessage(Buffer.from('{"type":"resize","cols":1000,"rows":500}'), false)).toEqual({
      message: { type: "resize", cols: 1000, rows: 500 },
    });
  });

  it("says what is wrong with a bad frame", () => {
    const error = (data: string, binary = false) => {
      const parsed = parseClientMessage(data, binary);
      return "error" in parsed ? parsed.error : "accepted";
    };
    expect(error('{"type":"input","data":"x"}', true)).toContain("binary frames");
    expect(error("{")).toBe("a frame is not JSON");
    expect(error('{"type":"exec","command":"id"}')).toContain("bad message");
    expect(error(`{"type":"resize","cols":${MAX_COLS + 1},"rows":24}`)).toContain("cols");
    expect(error('{"type":"resize","cols":80.5,"rows":24}')).toContain("cols");
    expect(error('{"type":"resize","cols":80,"rows":0}')).toContain("rows");
    expect(error('{"type":"start","server":"web-1;rm","cols":80,"rows":24}')).toContain("server");
    expect(error('{"type":"start","server":"web-1","login":"Root!","cols":80,"rows":24}')).toContain("login");
    expect(error('{"type":"input","data":""}')).toContain("data");
    expect(error(JSON.stringify({ type: "input", data: "x".repeat(40_000) }))).toContain("data");
    expect(error('{"type":"input","data":"x","more":1}')).toContain("bad message");
  });
});

describe("terminal Origin check", () => {
  it("accepts only the console's own origin or the public URL's", () => {
    expect(isSameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080", undefined)).toBe(true);
    expect(isSameOrigin("https://OCORE.example", "ocore.example", undefined)).toBe(true);
    expect(isSameOrigin("https://ocore.example", "10.0.0.5:8080", "https://ocore.example")).toBe(true);
    expect(isSameOrigin("https://evil.example", "ocore.example", "https://ocore.example")).toBe(false);
    expect(isSameOrigin("http://127.0.0.1:8081", "127.0.0.1:8080", undefined)).toBe(false);
    expect(isSameOrigin(undefined, "127.0.0.1:8080", undefined)).toBe(false);
    expect(isSameOrigin("null", "127.0.0.1:8080", undefined)).toBe(false);
    expect(isSameOrigin("file://127.0.0.1:8080", "127.0.0.1:8080", undefined)).toBe(false);
    expect(isSameOrigin("not a url", "127.0.0.1:8080", undefined)).toBe(false);
  });
});
