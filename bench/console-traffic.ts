// A little console traffic for the memory figures of `bench:startup`: what one person's first
// minutes in the console make the server do, without a browser. Signs the first admin in with the
// one-time password the server printed, then loads the main pages (server-rendered HTML and every
// script and stylesheet they reference) and the API calls those pages make.

const PAGES = ["/sign-in", "/servers", "/instances", "/admin/users", "/admin/tokens", "/admin/audit"];
const READS: ReadonlyArray<readonly [string, unknown]> = [
  ["/ocore.api.v1.AuthService/GetCurrentUser", {}],
  ["/ocore.api.v1.SystemService/GetInfo", {}],
  ["/ocore.api.v1.ServerService/ListServers", {}],
  ["/ocore.api.v1.InstanceService/ListInstances", {}],
  ["/ocore.api.v1.UserService/ListUsers", {}],
  ["/ocore.api.v1.UserService/ListRoles", {}],
  ["/ocore.api.v1.ApiTokenService/ListApiTokens", {}],
  ["/ocore.api.v1.AuditService/ListAuditEntries", {}],
];
const NEW_PASSWORD = "bench horse battery staple";

export interface TrafficSummary {
  readonly requests: number;
  readonly bytes: number;
}

class Session {
  readonly #cookies = new Map<string, string>();
  readonly base: string;
  requests = 0;
  bytes = 0;
  constructor(base: string) {
    this.base = base;
  }

  async get(path: string): Promise<string> {
    const response = await fetch(new URL(path, this.base), { headers: this.#headers(), redirect: "manual" });
    return this.#read(path, response, [200, 307, 308]);
  }

  async call(path: string, body: unknown): Promise<unknown> {
    const response = await fetch(new URL(path, this.base), {
      method: "POST",
      headers: { ...this.#headers(), "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return JSON.parse(await this.#read(path, response, [200]));
  }

  #headers(): Record<string, string> {
    const csrf = this.#cookies.get("ocore_csrf");
    const cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    return { ...(cookie ? { cookie } : {}), ...(csrf ? { "x-ocore-csrf": decodeURIComponent(csrf) } : {}) };
  }

  async #read(path: string, response: Response, ok: readonly number[]): Promise<string> {
    for (const header of response.headers.getSetCookie()) {
      const [pair = ""] = header.split(";");
      const at = pair.indexOf("=");
      if (at > 0) this.#cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const text = await response.text();
    this.requests++;
    this.bytes += text.length;
    if (!ok.includes(response.status))
      throw new Error(`${path} answered ${response.status}: ${text.slice(0, 200)}`);
    return text;
  }
}

/** Loads a page and every script and stylesheet it references. */
async function loadPage(session: Session, path: string): Promise<void> {
  const html = await session.get(path);
  const assets = new Set(
    [...html.matchAll(/(?:src|href)="(\/_next\/static\/[^"]+)"/g)].map((m) => m[1] as string),
  );
  for (const asset of assets) await session.get(asset);
}

/**
 * Signs in as the first admin (with its one-time password, which is then replaced, or with the
 * password a previous run chose) and loads the console's main pages and their API reads.
 */
export async function consoleTraffic(
  base: string,
  oneTimePassword: string | undefined,
): Promise<TrafficSummary> {
  const session = new Session(base);
  await loadPage(session, "/sign-in");
  const password = oneTimePassword ?? NEW_PASSWORD;
  await session.call("/ocore.api.v1.AuthService/Login", { username: "admin", password });
  if (oneTimePassword) {
    await session.call("/ocore.api.v1.AuthService/ChangePassword", {
      currentPassword: oneTimePassword,
      newPassword: NEW_PASSWORD,
    });
  }
  for (const page of PAGES.slice(1)) {
    await loadPage(session, page);
    for (const [path, body] of READS) await session.call(path, body);
  }
  return { requests: session.requests, bytes: session.bytes };
}
