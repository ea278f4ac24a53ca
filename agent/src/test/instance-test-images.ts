import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import { pack } from "tar-stream";
import { connectTestDocker, ensureTestImage, TEST_DOCKER_SOCKET } from "./docker-test-image.js";

/**
 * Stand-ins for the instance images, built FROM the busybox test image (no registry here). They
 * keep the contract the real images have with the agent:
 * - odoo: serves HTTP on 8069 (web: /web/login, and /web/health answering as Odoo 17 does) and
 *   8072 (longpolling); refuses to start without
 *   /etc/odoo/odoo.conf (so a missing config shows); its data dir is /var/lib/odoo.
 * - postgres: keeps its "database" in /var/lib/postgresql/data/db.txt; `pg_dump` writes it to
 *   stdout and `pg_restore` reads it from stdin (the names the production commands use).
 * - mailpit: serves HTTP on 8025.
 * All of them exit 0 on SIGTERM, like the real ones.
 */
const IDLE = "trap 'exit 0' TERM INT\nwhile :; do sleep 3600 & wait $!; done\n";
const FILES: Record<string, string> = {
  "standin/odoo.sh": `#!/bin/sh
test -f /etc/odoo/odoo.conf || { echo "no /etc/odoo/odoo.conf" >&2; exit 3; }
mkdir -p /www/web /var/lib/odoo/filestore
echo "odoo stand-in" > /www/index.html
echo "odoo stand-in login" > /www/web/login
echo '{"status": "pass", "db_server_status": true}' > /www/web/health
httpd -p 8069 -h /www
httpd -p 8072 -h /www
echo "odoo stand-in serving on 8069 and 8072"
${IDLE}`,
  "standin/postgres.sh": `#!/bin/sh
mkdir -p /var/lib/postgresql/data
touch /var/lib/postgresql/data/db.txt
echo "database stand-in ready"
${IDLE}`,
  "standin/mailpit.sh": `#!/bin/sh
mkdir -p /www
echo "mailpit stand-in" > /www/index.html
httpd -p 8025 -h /www
${IDLE}`,
  "usr/local/bin/pg_dump": "#!/bin/sh\ncat /var/lib/postgresql/data/db.txt\n",
  "usr/local/bin/pg_restore": "#!/bin/sh\ncat > /var/lib/postgresql/data/db.txt\n",
};

export interface InstanceTestImages {
  readonly odoo: string;
  readonly postgres: string;
  readonly mailpit: string;
}

const builds = new Map<string, Promise<InstanceTestImages>>();

/** Builds (once per content and process; reused when already present) the three stand-ins. */
export function ensureInstanceTestImages(socketPath = TEST_DOCKER_SOCKET): Promise<InstanceTestImages> {
  let pending = builds.get(socketPath);
  if (!pending) {
    pending = buildAll(socketPath);
    pending.catch(() => builds.delete(socketPath));
    builds.set(socketPath, pending);
  }
  return pending;
}

async function buildAll(socketPath: string): Promise<InstanceTestImages> {
  const base = "ocore-test-busybox:1";
  await ensureTestImage(base, socketPath);
  const docker = await connectTestDocker(socketPath);
  const tag = createHash("sha256").update(JSON.stringify(FILES)).digest("hex").slice(0, 12);
  const images = {
    odoo: `ocore-test-odoo:${tag}`,
    postgres: `ocore-test-postgres:${tag}`,
    mailpit: `ocore-test-mailpit:${tag}`,
  };
  for (const [role, image] of Object.entries(images)) {
    await buildImage(docker, image, `FROM ${base}\nCOPY . /\nCMD ["/bin/sh", "/standin/${role}.sh"]\n`);
  }
  return images;
}

async function buildImage(docker: Docker, image: string, dockerfile: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch {
    // not built yet
  }
  const context = pack();
  context.entry({ name: "Dockerfile" }, dockerfile);
  for (const [name, text] of Object.entries(FILES)) context.entry({ name, mode: 0o755 }, text);
  context.finalize();
  const progress = (await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
    t: image,
  })) as Readable;
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(progress, (error: Error | null, output: Array<{ error?: string }>) => {
      const failed = error?.message ?? output.find((line) => line.error)?.error;
      if (failed) reject(new Error(`building ${image} failed: ${failed}`));
      else resolve();
    }),
  );
}
