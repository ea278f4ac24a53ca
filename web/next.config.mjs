// The console is served in-process by the control server (server/) through
// `next({ dev: false, dir }).getRequestHandler()`, which owns the only HTTP port
// and the Connect API. Keep this config free of options that need the network,
// rewrites or API routes: the browser calls the API on its own origin.
//
// Plain JavaScript on purpose: Next.js compiles a next.config.ts with its SWC binary every
// time the server starts, which keeps ~23 MB of native code resident in the control server
// for the life of the process (docs/decisions/0100-embedded-database-memory.md).

/** @type {import("next").NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  typedRoutes: true,
};

export default nextConfig;
