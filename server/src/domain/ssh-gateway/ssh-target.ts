/**
 * What an SSH username says: `user+server[+login]`. `user` is the oCore account (or anything,
 * for an API token), `server` a server name or id, `login` the host account (default: the
 * server's own SSH user). `user` alone opens the picker.
 */
export interface SshTarget {
  readonly user: string;
  /** A server name or id; undefined: the picker. */
  readonly server: string | undefined;
  readonly login: string | undefined;
}

export const TARGET_SYNTAX =
  "user+server[+login]@gateway, e.g. ssh -p 2222 alice+web-1@gateway or alice+web-1+odoo@gateway";

const USER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SERVER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const LOGIN = /^[a-z_][a-z0-9_.-]{0,31}$/;

/** The target, or a message that names what is wrong and the right syntax. */
export function parseSshTarget(username: string): SshTarget | { readonly error: string } {
  const parts = username.split("+");
  const [user = "", server, login, ...rest] = parts;
  const wrong = (what: string) => ({ error: `${what}; the SSH username is ${TARGET_SYNTAX}` });
  if (username.length > 200) return wrong("the username is too long");
  if (rest.length > 0) return wrong(`"${username.slice(0, 80)}" has more than three parts`);
  if (!USER.test(user)) return wrong(`"${user.slice(0, 64)}" is not an oCore username`);
  if (server !== undefined && !SERVER.test(server)) {
    return wrong(`"${server.slice(0, 64)}" is not a server name or id`);
  }
  if (login !== undefined && !LOGIN.test(login)) {
    return wrong(`"${login.slice(0, 40)}" is not a host login name`);
  }
  return { user, server: server || undefined, login: login || undefined };
}
