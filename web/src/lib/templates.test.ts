import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { checkParameterValue, checkRate, parameterInput, runProgress } from "./template-runs";
import {
  definitionToDraft,
  draftToDefinition,
  emptyDraft,
  emptyParameter,
  errorFor,
  fieldErrorOf,
  lineDiff,
  reviewBlock,
} from "./templates";

const param = (over: Partial<Parameters<typeof checkParameterValue>[0]> = {}) => ({
  name: "n",
  type: "string",
  pattern: "",
  allowedValues: [] as string[],
  min: 0n,
  max: 0n,
  required: false,
  ...over,
});

describe("template drafts", () => {
  it("turns the form's lines into the API's lists and back", () => {
    const draft = {
      ...emptyDraft(),
      name: " disk report for {arch} ",
      argv: "{arch}\n\n{path}\n",
      env: "LANG=C\nEMPTY\nEQ=a=b",
      writePaths: " /var/tmp \n",
      examples: "Root | path=/, depth=2 | the whole disk",
      parameters: [{ ...emptyParameter(), name: "depth", type: "integer", min: "1", max: "9", pattern: "x" }],
    };
    const d = draftToDefinition(draft);
    expect(d.name).toBe("disk report for {arch}");
    expect(d.argv).toEqual(["{arch}", "{path}"]);
    expect(d.env).toEqual({ LANG: "C", EMPTY: "", EQ: "a=b" });
    expect(d.writePaths).toEqual(["/var/tmp"]);
    expect(d.examples).toEqual([
      { title: "Root", parameters: { path: "/", depth: "2" }, note: "the whole disk" },
    ]);
    // Fields of other types are not sent: the pattern of an integer parameter would be refused.
    expect(d.parameters[0]).toMatchObject({ type: "integer", min: 1n, max: 9n, pattern: "" });
    const again = draftToDefinition(definitionToDraft(d));
    expect(again).toEqual(d);
  });

  it("sends a non-number as NaN so the server names the field", () => {
    expect(draftToDefinition({ ...emptyDraft(), timeoutSeconds: "ten" }).timeoutSeconds).toBeNaN();
  });
});

describe("fieldErrorOf", () => {
  it("reads the field from x-ocore-field and strips it from the message", () => {
    const error = new ConnectError(
      "definition.parameters.0.default_value: must match ^a$",
      Code.InvalidArgument,
      { "x-ocore-field": "definition.parameters.0.default_value" },
    );
    const found = fieldErrorOf(error);
    expect(found).toEqual({ field: "parameters.0.defaultValue", message: "must match ^a$" });
    expect(errorFor(found, "parameters.0")).toBe("must match ^a$");
    expect(errorFor(found, "parameters.1")).toBeUndefined();
  });

  it("falls back to the message's prefix, and gives nothing for an error without a field", () => {
    expect(fieldErrorOf(new ConnectError("definition.name: is required", Code.InvalidArgument))).toEqual({
      field: "name",
      message: "is required",
    });
    expect(fieldErrorOf(new ConnectError("the server is down", Code.Unavailable))).toBeUndefined();
    expect(fieldErrorOf(undefined)).toBeUndefined();
  });
});

describe("lineDiff", () => {
  it("keeps common lines and marks the changed ones", () => {
    expect(lineDiff(["a", "b", "c"], ["a", "x", "c", "d"])).toEqual([
      { kind: "same", text: "a" },
      { kind: "removed", text: "b" },
      { kind: "added", text: "x" },
      { kind: "same", text: "c" },
      { kind: "added", text: "d" },
    ]);
    expect(lineDiff([], ["a"])).toEqual([{ kind: "added", text: "a" }]);
  });
});

describe("reviewBlock (four eyes)", () => {
  const approver = { username: "bob", permissions: ["templates.approve"] };
  it("lets a second person with templates.approve review a pending version", () => {
    expect(reviewBlock({ reviewState: "pending", author: "alice" }, approver)).toBeUndefined();
  });
  it("refuses the author, a user without the permission, and a reviewed version", () => {
    expect(reviewBlock({ reviewState: "pending", author: "bob" }, approver)).toMatch(/four-eyes/);
    expect(
      reviewBlock({ reviewState: "pending", author: "alice" }, { username: "c", permissions: [] }),
    ).toMatch(/templates\.approve/);
    expect(reviewBlock({ reviewState: "approved", author: "alice" }, approver)).toMatch(/already approved/);
  });
});

describe("parameter inputs and checks", () => {
  it("picks the input by type; a list offers the values every previewed host has", () => {
    expect(parameterInput(param({ type: "enum", allowedValues: ["a", "b"] }))).toEqual({
      kind: "select",
      options: ["a", "b"],
    });
    expect(parameterInput(param({ type: "integer", min: 1n, max: 5n }))).toEqual({
      kind: "number",
      min: 1,
      max: 5,
    });
    expect(parameterInput(param({ type: "boolean" }))).toEqual({ kind: "checkbox" });
    expect(parameterInput(param({ type: "list" }), [{ n: "shop,crm" }, { n: "crm,erp" }])).toEqual({
      kind: "select",
      options: ["crm"],
    });
    expect(parameterInput(param({ type: "list" }))).toEqual({ kind: "text" });
  });

  it("checks values as the server will", () => {
    expect(checkParameterValue(param({ required: true }), "")).toBe("is required");
    expect(checkParameterValue(param({ pattern: "[a-z]+" }), "abc")).toBeUndefined();
    expect(checkParameterValue(param({ pattern: "[a-z]+" }), "abc; rm -rf /")).toMatch(/must match/);
    expect(checkParameterValue(param({ type: "integer", min: 1n, max: 5n }), "6")).toMatch(/between 1 and 5/);
    expect(checkParameterValue(param({ type: "integer", min: 1n, max: 5n }), "1.5")).toMatch(/whole/);
    expect(checkParameterValue(param({ type: "enum", allowedValues: ["a"] }), "b")).toMatch(/one of a/);
  });

  it("checks concurrency and error budgets", () => {
    expect(checkRate("2", "concurrency")).toBeUndefined();
    expect(checkRate("10%", "concurrency")).toBeUndefined();
    expect(checkRate("0", "concurrency")).toMatch(/at least 1/);
    expect(checkRate("150%", "concurrency")).toMatch(/at most 100%/);
    expect(checkRate("two", "errors")).toMatch(/number or a percentage/);
    expect(checkRate("0", "errors")).toBeUndefined();
  });
});

it("summarises a run's progress", () => {
  expect(
    runProgress({ total: 5, succeeded: 2, failed: 1, pending: 1, running: 1, skipped: 0, refused: 1 }),
  ).toBe("3 of 5 hosts done · 2 succeeded · 1 failed · 1 running · 1 pending · 1 refused");
});
