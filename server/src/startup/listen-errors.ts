import { ConfigError } from "../platform/config/config-error.js";

/** Turns a failure to listen into the one line a user can act on. */
export function describeListenFailure(
  host: string,
  port: number,
  error: unknown,
  setting = "OCORE_HTTP_ADDR",
): ConfigError {
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  switch ((error as NodeJS.ErrnoException).code) {
    case "EADDRINUSE":
      return new ConfigError(
        setting,
        `${address} is already in use`,
        "Stop the other process or choose another port.",
      );
    case "EACCES":
      return new ConfigError(setting, `no permission to listen on ${address}`, "Use a port above 1023.");
    case "EADDRNOTAVAIL":
      return new ConfigError(
        setting,
        `${host} is not an address of this machine`,
        "Use 127.0.0.1, 0.0.0.0 or one of its addresses.",
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ConfigError(setting, `the host name ${host} cannot be resolved`, "Use an IP address.");
    default:
      return new ConfigError(
        setting,
        `cannot listen on ${address} (${String(error)})`,
        "Choose another address.",
      );
  }
}
