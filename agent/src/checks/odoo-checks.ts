import { type CheckResult, sentence } from "./check-result.js";
import { engineCall, engineMessage } from "./engine-call.js";
import { checkOdooDatabase } from "./odoo-database-checks.js";
import { type ProbeAnswer, probeHttp } from "./odoo-probes.js";

/** The labels create-instance puts on an instance's containers (instances/instance-layout.ts). */
const INSTANCE_LABEL = "ocore.instance";
const ROLE_LABEL = "ocore.role";
const WEB_PORT = 8069;
const REALTIME_PORT = 8072;
const ROLES = ["db", "mail", "odoo"] as const;
/** Instances checked per cycle; beyond it the rest are left out (and said so in the log). */
export const MAX_CHECKED_INSTANCES = 100;
const ENGINE_TIMEOUT_MS = 5_000;

interface ListedContainer {
  readonly Id: string;
  readonly Names?: readonly string[];
  readonly State?: string;
  readonly Status?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly Ports?: ReadonlyArray<{ PrivatePort: number; PublicPort?: number; Type?: string }>;
}

export interface OdooCheckOptions {
  /** Where the published ports are reached (the agent runs on the host: loopback). */
  readonly host?: string;
  /** Each HTTP probe's bound (connect and answer; default 5 s). */
  readonly timeoutMs?: number;
  /**
   * Also read cron lag and the mail queue from the database (psql in the db container) of each
   * running instance this accepts (by name); none: not read.
   */
  readonly database?: (subject: string) => boolean;
}

/**
 * The checks of every oCore instance on the host (containers labelled `ocore.instance`), three
 * per instance, the subject being the instance's name:
 * - `odoo_containers`: the db, mail and odoo containers run (critical when Odoo or its database
 *   does not, warning when only Mailpit does not);
 * - `odoo_web`: the web port answers `/web/health` (`?db_server_status=1` from Odoo 17, which
 *   checks the database too), or `/web/login` before Odoo 15;
 * - `odoo_realtime`: the real-time port accepts a WebSocket upgrade on `/websocket` (Odoo 16+)
 *   or answers HTTP (longpolling, Odoo 15 and before). Without workers Odoo serves real time on
 *   its web port and nothing listens on the real-time one: then the web port is tried and the
 *   result says so.
 * The HTTP checks are not run while the Odoo container is not running (unknown: the container
 * check already says what is wrong).
 */
export async function checkOdooInstances(
  socketPath: string,
  options: OdooCheckOptions = {},
): Promise<{ results: CheckResult[]; skipped: number }> {
  const filters = encodeURIComponent(JSON.stringify({ label: [INSTANCE_LABEL] }));
  const listed = await engineCall(socketPath, "GET", `/containers/json?all=1&filters=${filters}`, {
    timeoutMs: ENGINE_TIMEOUT_MS,
  });
  if (listed.status !== 200) throw new Error(`Docker refused to list containers: ${engineMessage(listed)}`);
  const byInstance = new Map<string, Partial<Record<(typeof ROLES)[number], ListedContainer>>>();
  for (const container of JSON.parse(listed.body) as ListedContainer[]) {
    const id = container.Labels?.[INSTANCE_LABEL];
    const role = container.Labels?.[ROLE_LABEL] as (typeof ROLES)[number] | undefined;
    if (!id || !role || !ROLES.includes(role)) continue;
    byInstance.set(id, { ...byInstance.get(id), [role]: container });
  }
  const instances = [...byInstance.values()].slice(0, MAX_CHECKED_INSTANCES);
  const results = await Promise.all(
    instances.map((containers) => checkInstance(socketPath, containers, options)),
  );
  return { results: results.flat(), skipped: Math.max(0, byInstance.size - instances.length) };
}

/** `ocore-<name>-<role>` → name (the instance's name, unique on its server). */
function instanceName(containers: Partial<Record<string, ListedContainer>>): string | undefined {
  for (const role of ROLES) {
    const name = containers[role]?.Names?.[0]?.replace(/^\//, "");
    const match = name?.match(new RegExp(`^ocore-([a-z][a-z0-9-]*[a-z0-9])-${role}$`));
    if (match?.[1]) return match[1];
  }
  return undefined;
}

async function checkInstance(
  socketPath: string,
  containers: Partial<Record<(typeof ROLES)[number], ListedContainer>>,
  options: OdooCheckOptions,
): Promise<CheckResult[]> {
  const subject = instanceName(containers);
  if (!subject) return [];
  const states = ROLES.map((role) => ({ role, container: containers[role] }));
  const down = states.filter(({ container }) => container?.State !== "running");
  const describe = ({ role, container }: (typeof states)[number]) =>
    container ? `${role} ${container.Status ?? container.State}` : `${role} missing`;
  const containerCheck: CheckResult = {
    key: "odoo_containers",
    subject,
    state: down.some(({ role }) => role !== "mail") ? "critical" : down.length > 0 ? "warning" : "ok",
    value: states.length - down.length,
    message: sentence(
      down.length === 0
        ? "db, mail and odoo are running"
        : `${down.map(describe).join(", ")}; ${states.length - down.length} of 3 running`,
    ),
  };
  const odoo = containers.odoo;
  if (odoo?.State !== "running") {
    const why = `not checked: the Odoo container is ${odoo ? (odoo.State ?? "not running") : "missing"}`;
    return [
      containerCheck,
      { key: "odoo_web", subject, state: "unknown", message: why },
      { key: "odoo_realtime", subject, state: "unknown", message: why },
    ];
  }
  const published = (port: number) =>
    odoo.Ports?.find((entry) => entry.PrivatePort === port && entry.Type !== "udp" && entry.PublicPort)
      ?.PublicPort;
  const version = await odooVersion(socketPath, odoo.Id);
  const host = options.host ?? "127.0.0.1";
  const timeoutMs = options.timeoutMs ?? 5_000;
  const webPort = published(WEB_PORT);
  const realtimePort = published(REALTIME_PORT);
  const [web, realtime, database] = await Promise.all([
    webPort
      ? checkWeb(host, webPort, version, timeoutMs, subject)
      : notPublished("odoo_web", subject, WEB_PORT),
    realtimePort
      ? checkRealtime(host, realtimePort, webPort, version, timeoutMs, subject)
      : notPublished("odoo_realtime", subject, REALTIME_PORT),
    options.database?.(subject) && containers.db?.State === "running"
      ? checkOdooDatabase(socketPath, containers.db.Id, subject)
      : Promise.resolve([]),
  ]);
  return [containerCheck, web, realtime, ...database];
}

function notPublished(key: "odoo_web" | "odoo_realtime", subject: string, port: number): CheckResult {
  return { key, subject, state: "critical", message: `port ${port} of the Odoo container is not published` };
}

/** Odoo's major version: the official image's ODOO_VERSION, else the image tag; undefined if neither says. */
async function odooVersion(socketPath: string, id: string): Promise<number | undefined> {
  try {
    const answer = await engineCall(socketPath, "GET", `/containers/${encodeURIComponent(id)}/json`, {
      timeoutMs: ENGINE_TIMEOUT_MS,
    });
    if (answer.status !== 200) return undefined;
    const info = JSON.parse(answer.body) as { Config?: { Env?: string[] | null; Image?: string } };
    const env = info.Config?.Env?.find((entry) => entry.startsWith("ODOO_VERSION="))?.slice(13);
    return parseMajor(env) ?? parseMajor(info.Config?.Image?.split(":").at(-1));
  } catch {
    return undefined;
  }
}

/** "17.0" → 17, "saas-17.2" → 17; anything else → undefined. */
export function parseMajor(text: string | undefined): number | undefined {
  const match = text?.match(/^(?:saas[-~])?(\d{1,2})(?:\.\d+)?/);
  const major = match?.[1] ? Number(match[1]) : Number.NaN;
  return major >= 8 && major <= 99 ? major : undefined;
}

const failure = (answer: ProbeAnswer): string =>
  answer.kind === "failed"
    ? answer.error
    : answer.kind === "http"
      ? `HTTP ${answer.status}`
      : "a protocol switch";

/** The path the web check asks for, by version (undefined: try /web/health, then /web/login on 404). */
export function webHealthPath(version: number | undefined): string {
  if (version === undefined || version >= 17) return "/web/health?db_server_status=1";
  return version >= 15 ? "/web/health" : "/web/login";
}

async function checkWeb(
  host: string,
  port: number,
  version: number | undefined,
  timeoutMs: number,
  subject: string,
): Promise<CheckResult> {
  let path = webHealthPath(version);
  let answer = await probeHttp({ host, port, path, timeoutMs });
  if (version === undefined && answer.kind === "http" && answer.status === 404) {
    path = "/web/login";
    answer = await probeHttp({ host, port, path, timeoutMs });
  }
  const base = { key: "odoo_web" as const, subject, value: answer.ms };
  if (answer.kind !== "http") {
    return { ...base, state: "critical", message: sentence(`${path} on port ${port}: ${failure(answer)}`) };
  }
  if (path.startsWith("/web/health")) {
    let health: { status?: unknown; db_server_status?: unknown } = {};
    try {
      health = JSON.parse(answer.body) as typeof health;
    } catch {
      // not JSON: judged by the status alone
    }
    const dbDown = health.db_server_status === false;
    if (answer.status === 200 && health.status !== "fail" && !dbDown) {
      const db = health.db_server_status === true ? ", database reachable" : "";
      return {
        ...base,
        state: "ok",
        message: sentence(`${path} on port ${port} passes in ${answer.ms} ms${db}`),
      };
    }
    const detail = dbDown
      ? "Odoo cannot reach its database"
      : `HTTP ${answer.status} ${answer.body.slice(0, 120)}`;
    return { ...base, state: "critical", message: sentence(`${path} on port ${port} fails: ${detail}`) };
  }
  const fine = answer.status >= 200 && answer.status < 400;
  return {
    ...base,
    state: fine ? "ok" : "critical",
    message: sentence(
      fine
        ? `${path} on port ${port} answers ${answer.status} in ${answer.ms} ms`
        : `${path} on port ${port} answers HTTP ${answer.status}`,
    ),
  };
}

async function checkRealtime(
  host: string,
  port: number,
  webPort: number | undefined,
  version: number | undefined,
  timeoutMs: number,
  subject: string,
): Promise<CheckResult> {
  const websocket = version === undefined || version >= 16;
  const probe = (target: number) =>
    websocket
      ? probeHttp({ host, port: target, path: "/websocket", timeoutMs }, { upgrade: true })
      : probeHttp({ host, port: target, path: "/web/login", timeoutMs });
  const passes = (answer: ProbeAnswer) =>
    websocket
      ? answer.kind === "upgraded"
      : answer.kind === "http" && answer.status >= 200 && answer.status < 400;
  const what = websocket ? "the WebSocket upgrade on /websocket" : "longpolling (HTTP)";
  const answer = await probe(port);
  const base = { key: "odoo_realtime" as const, subject, value: answer.ms };
  if (passes(answer)) {
    return { ...base, state: "ok", message: sentence(`${what} on port ${port} answers in ${answer.ms} ms`) };
  }
  // Without workers, Odoo serves real time on its web port and nothing listens on this one.
  if (answer.kind === "failed" && webPort) {
    const fallback = await probe(webPort);
    if (passes(fallback)) {
      return {
        ...base,
        value: fallback.ms,
        state: "ok",
        message: sentence(
          `${what} is served by the web port ${webPort} (port ${port}: ${answer.error}; Odoo runs without workers)`,
        ),
      };
    }
  }
  return {
    ...base,
    state: "critical",
    message: sentence(`${what} on port ${port} fails: ${failure(answer)}`),
  };
}
