type X509Module = typeof import("@peculiar/x509");

let loading: Promise<X509Module> | undefined;

/**
 * Loads @peculiar/x509 on first use. Its dependency injection (tsyringe) needs the Reflect
 * metadata API when it is imported, so the `reflect-metadata` polyfill goes first. Loading
 * lazily keeps the agent's modules free of import-time side effects.
 */
export function loadX509(): Promise<X509Module> {
  loading ??= import("reflect-metadata").then(() => import("@peculiar/x509"));
  return loading;
}
