import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const script = new URL("../../../scripts/prepare-test-machine.sh", import.meta.url).pathname;

/**
 * A directory to put first on PATH whose `dpkg-query` reports `absent` as not installed (until a
 * marker file exists) and asks the real one about every other package; `apt-get` and `systemctl`
 * only record their arguments. The rest of the machine is real.
 */
function machineMissing(absent: string): { bin: string; log: string } {
  const bin = mkdtempSync(path.join(os.tmpdir(), "ocore-prepare-"));
  chmodSync(bin, 0o755); // also for the unprivileged user
  const log = path.join(bin, "calls.log");
  const stub = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  stub(
    "dpkg-query",
    `for last; do :; done
if [ "$last" = "${absent}" ] && [ ! -e "${bin}/installed" ]; then echo "unknown ok not-installed"; exit 0; fi
exec /usr/bin/dpkg-query "$@"`,
  );
  stub(
    "apt-get",
    `echo "apt-get $*" >> "${log}"
case "$*" in *install*) touch "${bin}/installed" ;; esac`,
  );
  stub("systemctl", `echo "systemctl $*" >> "${log}"`);
  return { bin, log };
}

async function prepare(options: { path: string; asNobody?: boolean }) {
  const argv = options.asNobody
    ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "bash", script]
    : ["bash", script];
  const started = Date.now();
  const result = await run(argv[0] as string, argv.slice(1), {
    env: { PATH: options.path },
    timeout: 60_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
  return { ...result, ms: Date.now() - started };
}

describe("npm test prepares the machine it runs on (scripts/prepare-test-machine.sh)", () => {
  it("as a user who cannot install, stops at once naming what is missing and the one command that fixes it", async () => {
    const { bin, log } = machineMissing("busybox-static");
    const result = await prepare({ path: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`, asNobody: true });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/system packages that are missing: busybox-static/);
    expect(result.stderr).toContain("sudo bash scripts/prepare-test-machine.sh");
    expect(result.ms).toBeLessThan(10_000);
    expect(existsSync(log)).toBe(false);
  });

  it("as root, installs what is missing and finds the Docker daemon answering", async () => {
    const { bin, log } = machineMissing("busybox-static");
    const result = await prepare({ path: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const calls = readFileSync(log, "utf8");
    expect(calls).toMatch(/^apt-get install .*busybox-static$/m);
    expect(calls).not.toMatch(/install .*(postgresql|chromium|shellcheck)/);
    expect(result.stdout).toContain("Test machine ready");
  });
});
