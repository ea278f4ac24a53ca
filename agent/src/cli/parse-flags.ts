import { parseArgs } from "node:util";

/** A command line the agent cannot understand; the CLI prints its message and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parses `--name value` and `--name=value` flags (node:util parseArgs, strict); unknown, empty,
 * repeated and positional arguments are refused with a UsageError naming the argument.
 */
export function parseFlags(args: readonly string[], known: readonly string[]): Map<string, string> {
  let tokens: NonNullable<ReturnType<typeof parseArgs>["tokens"]>;
  try {
    ({ tokens } = parseArgs({
      args: [...args],
      options: Object.fromEntries(known.map((name) => [name, { type: "string", multiple: true }] as const)),
      strict: true,
      allowPositionals: false,
      tokens: true,
    }));
  } catch (error) {
    throw usageErrorOf(error, args);
  }
  const flags = new Map<string, string>();
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    if (!token.value) throw new UsageError(`--${token.name} needs a value`);
    if (flags.has(token.name)) throw new UsageError(`--${token.name} is given twice`);
    flags.set(token.name, token.value);
  }
  return flags;
}

/** parseArgs's errors say what is wrong in its own words; ours name the argument as typed. */
function usageErrorOf(error: unknown, args: readonly string[]): Error {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = /'(--[a-z-]+)/.exec(message)?.[1];
    if (name) return new UsageError(`${name} needs a value`);
  }
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const arg = args.find((candidate) => message.includes(`'${candidate}'`)) ?? message;
    return new UsageError(`unknown argument "${arg}"`);
  }
  return error instanceof Error ? new UsageError(message) : new UsageError(String(error));
}
