/** A command line the agent cannot understand; the CLI prints its message and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Parses `--name value` and `--name=value` flags; unknown or repeated flags are refused. */
export function parseFlags(args: readonly string[], known: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? "";
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match?.[1] || !known.includes(match[1])) throw new UsageError(`unknown argument "${arg}"`);
    const value = match[2] ?? args[++index];
    if (value === undefined || value === "") throw new UsageError(`--${match[1]} needs a value`);
    if (flags.has(match[1])) throw new UsageError(`--${match[1]} is given twice`);
    flags.set(match[1], value);
  }
  return flags;
}
