import { parseArgs } from "node:util";

/**
 * A benchmark's command line: whole numbers as positionals (fleet sizes, megabytes) and --help,
 * read with node:util parseArgs. A typo stops the run with the usage instead of being dropped.
 */
export function readCounts(
  usage: string,
  defaults: readonly number[],
  argv = process.argv.slice(2),
): number[] {
  let parsed: { values: { help?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return refuse(usage, (error as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const counts = parsed.positionals.map((text) => {
    const value = Number(text);
    return Number.isSafeInteger(value) && value > 0
      ? value
      : refuse(usage, `"${text}" is not a positive whole number`);
  });
  return counts.length > 0 ? counts : [...defaults];
}

function refuse(usage: string, problem: string): never {
  process.stderr.write(`${problem}\n${usage}\n`);
  process.exit(2);
}
