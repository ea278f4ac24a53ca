import { matchesSelector, parseSelector } from "../auth/selector.js";
import { factValue, type HostContext } from "./host-context.js";
import { fillPlaceholders } from "./placeholders.js";
import type { TemplateDefinition } from "./template-definition.js";

/** Exactly what runs on one host: the interpreter's argv and the environment. */
export interface HostRender {
  readonly title: string;
  /** The positional arguments ($1…), placeholders filled. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The whole command line as the agent starts it: interpreter, -c, the script, $0, argv. */
  readonly command: readonly string[];
  /** The server-computed choices of each list parameter on this host. */
  readonly listOptions: Readonly<Record<string, readonly string[]>>;
}

export type RenderOutcome =
  | { readonly ok: true; readonly render: HostRender }
  | { readonly ok: false; readonly reason: string };

/** $0 of every run: scripts see it as their name. */
export const SCRIPT_NAME = "ocore-template";

/**
 * The command line the agent starts (agent/src/scripts/script-command.ts builds the same): shells
 * get $0 = ocore-template and the arguments as $1…; python3 gets them as sys.argv[1:].
 */
export function interpreterCommand(interpreter: string, script: string, argv: readonly string[]): string[] {
  return interpreter === "python3"
    ? [interpreter, "-c", script, ...argv]
    : [interpreter, "-c", script, SCRIPT_NAME, ...argv];
}

/** The environment name of a fact or parameter: OCORE_ARCH, OCORE_PARAM_SERVICE. */
const factEnv = (name: string) => `OCORE_${name.toUpperCase()}`;
const paramEnv = (name: string) => `OCORE_PARAM_${name.toUpperCase()}`;

const EXPORTED_FACTS = ["arch", "os_id", "os_version", "hostname", "cores", "memory_mb", "server_name"];

/**
 * Renders a template version for one host. Values are only ever placed whole into argv elements
 * and environment values (and the displayed title); the script stays byte for byte what was
 * reviewed. A host is refused when the template's scope excludes it, a placeholder has no value
 * on it (a missing tag or fact), or a list parameter's value is not in its list there.
 */
export function renderForHost(
  definition: TemplateDefinition,
  parameters: Readonly<Record<string, string>>,
  host: HostContext,
): RenderOutcome {
  if (!matchesSelector(parseSelector(definition.scope), host.tags)) {
    return { ok: false, reason: `outside the template's scope (${definition.scope})` };
  }
  const listOptions: Record<string, readonly string[]> = {};
  for (const parameter of definition.parameters) {
    if (parameter.type !== "list") continue;
    const options = parameter.listSource === "instances" ? host.instances : host.ports;
    listOptions[parameter.name] = options;
    const value = parameters[parameter.name] ?? "";
    if ((value !== "" || parameter.required) && !options.includes(value)) {
      return {
        ok: false,
        reason: `parameter ${parameter.name}: "${value}" is not one of this host's ${parameter.listSource} (${options.join(", ") || "none"})`,
      };
    }
  }
  const lookup = (name: string) =>
    Object.hasOwn(parameters, name) && definition.parameters.some((p) => p.name === name)
      ? parameters[name]
      : factValue(host, name);
  const fill = (source: string, where: string): string | { missing: string; where: string } => {
    const filled = fillPlaceholders(source, lookup);
    return "text" in filled ? filled.text : { missing: filled.missing, where };
  };
  const title = fill(definition.name, "name");
  const argv: string[] = [];
  const env: Record<string, string> = {};
  const results: Array<string | { missing: string; where: string }> = [title];
  definition.argv.forEach((arg, i) => {
    const value = fill(arg, `argv ${i + 1}`);
    results.push(value);
    if (typeof value === "string") argv.push(value);
  });
  for (const [key, source] of Object.entries(definition.env)) {
    const value = fill(source, `env ${key}`);
    results.push(value);
    if (typeof value === "string") env[key] = value;
  }
  const gap = results.find((value) => typeof value !== "string");
  if (gap && typeof gap !== "string") {
    return { ok: false, reason: `{${gap.missing}} (in ${gap.where}) has no value on this host` };
  }
  for (const fact of EXPORTED_FACTS) {
    const value = factValue(host, fact);
    if (value !== undefined) env[factEnv(fact)] = value;
  }
  for (const parameter of definition.parameters)
    env[paramEnv(parameter.name)] = parameters[parameter.name] ?? "";
  return {
    ok: true,
    render: {
      title: title as string,
      argv,
      env,
      command: interpreterCommand(definition.interpreter, definition.script, argv),
      listOptions,
    },
  };
}
