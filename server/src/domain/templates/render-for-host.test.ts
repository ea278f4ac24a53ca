import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "../../platform/errors/app-error.js";
import type { HostContext } from "./host-context.js";
import { renderForHost } from "./render-for-host.js";
import { parseDefinition, resolveParameters } from "./template-definition.js";

const definition = parseDefinition({
  name: "report {value} on {arch}",
  type: "diagnostic",
  scope: "",
  description: "",
  examples: [],
  interpreter: "bash",
  script: 'printf "%s" "$1" "$OCORE_PARAM_VALUE" "$EXTRA"',
  argv: ["{value}", "--at={hostname}:{value}", "{{literal}}"],
  env: { EXTRA: "{value}" },
  runAs: "nobody",
  timeoutSeconds: 10,
  memoryMaxMb: 0,
  cpuQuotaPercent: 0,
  tasksMax: 0,
  writePaths: [],
  parameters: [
    {
      name: "value",
      type: "string",
      description: "",
      required: true,
      defaultValue: "",
      pattern: "",
      allowedValues: [],
      min: 0,
      max: 0,
      listSource: "",
      confirm: false,
    },
  ],
});

const host: HostContext = {
  id: "00000000-0000-4000-8000-000000000001",
  name: "h",
  status: "active",
  lastSeenAt: null,
  tags: {},
  facts: {
    hostname: "h1",
    osId: "debian",
    osVersion: "12",
    kernel: "6.1",
    architecture: "amd64",
    cpuCores: 1,
    memoryTotalBytes: 2 ** 30,
    bootedAt: null,
  },
  instances: [],
  ports: [],
};

const payloads = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc
    .array(
      fc.constantFrom(
        "$(",
        ")",
        "`",
        "'",
        '"',
        ";",
        "|",
        "&",
        "\n",
        "\0",
        "\u001b",
        "{arch}",
        "{{",
        "}",
        "\\",
        "é",
        "🙂",
        "\u202e",
        " ",
      ),
      {
        maxLength: 12,
      },
    )
    .map((parts) => parts.join("")),
);

describe("rendering a template for a host", () => {
  it("never changes the command: every accepted value lands whole in argv and env, the script is untouched (fuzz)", () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(payloads, (value) => {
        let parameters: Record<string, string>;
        try {
          parameters = resolveParameters(definition, { value });
        } catch (error) {
          // Refused values are refused as invalid_argument naming the parameter, never passed on.
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).field).toBe("parameters.value");
          const control = [...value].some(
            (c) => (c.charCodeAt(0) < 0x20 && c !== "\t") || c.charCodeAt(0) === 0x7f,
          );
          expect(control || value.length > 4096).toBe(true);
          refused += 1;
          return;
        }
        accepted += 1;
        const outcome = renderForHost(definition, parameters, host);
        if (!outcome.ok) throw new Error(outcome.reason);
        const { command, env, title } = outcome.render;
        expect(command).toEqual([
          "bash",
          "-c",
          definition.script,
          "ocore-template",
          value,
          `--at=h1:${value}`,
          "{literal}",
        ]);
        expect(env.EXTRA).toBe(value);
        expect(env.OCORE_PARAM_VALUE).toBe(value);
        expect(title).toBe(`report ${value} on amd64`);
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(100);
  });
});
