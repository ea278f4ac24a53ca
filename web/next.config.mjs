import type { NextConfig } from "next";

// The console is served in-process by the control server (server/) through
// `next({ dev: false, dir }).getRequestHandler()`, which owns the only HTTP port
// and the Connect API. Keep this config free of options that need the network,
// rewrites or API routes: the browser calls the API on its own origin.
const nextConfig: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  typedRoutes: true,
};

export default nextConfig;
