/**
 * The ONE way a command line for a remote host is built: every argument is single-quoted for a
 * POSIX shell (a single quote inside becomes '\''), so no argument is ever interpreted. Scripts
 * are files uploaded to the host; this only joins their path and arguments.
 */
export function shellQuote(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error("a command needs at least the program");
  return argv.map(quoteOne).join(" ");
}

function quoteOne(argument: string): string {
  if (argument.includes("\0")) throw new Error("a command argument cannot contain a NUL byte");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(argument)) return argument;
  return `'${argument.replaceAll("'", `'\\''`)}'`;
}
