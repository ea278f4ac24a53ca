import type { SettingValues } from "./settings.js";

export interface RelayConfig {
  /** Where the relay listens; undefined: off (a single replica). */
  readonly listen: { readonly host: string; readonly port: number } | undefined;
  /** host:port peers dial (the port is replaced by the bound one when listen's port is 0). */
  readonly publicAddress: { readonly host: string; readonly port: number } | undefined;
}

export function toRelayConfig(values: SettingValues, hostname: string): RelayConfig {
  const listen = values.OCORE_RELAY_ADDR === "off" ? undefined : values.OCORE_RELAY_ADDR;
  return {
    listen,
    // A specific listen address is the one to dial; a wildcard one is reached by host name.
    publicAddress:
      values.OCORE_RELAY_PUBLIC_ADDR ??
      (listen
        ? {
            host: listen.host === "0.0.0.0" || listen.host === "::" ? hostname : listen.host,
            port: listen.port,
          }
        : undefined),
  };
}
