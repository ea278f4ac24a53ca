/**
 * A setting the server cannot start with. `toString()` is the one line a user reads:
 * which setting, what is wrong with it, and what to do.
 */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${setting}: ${problem}. ${fix}`);
    this.name = "ConfigError";
  }

  override toString(): string {
    return this.message;
  }
}
