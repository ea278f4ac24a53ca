/** The fields the fleet's text search looks in. */
export type SearchableServer = { name: string; host: string; sshPort: number };

/**
 * True when every word of `query` appears in the server's name or "host:port", ignoring case.
 * An empty query matches every server.
 */
export function matchesServerSearch(server: SearchableServer, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const haystack = `${server.name} ${server.host}:${server.sshPort}`.toLowerCase();
  return words.every((word) => haystack.includes(word));
}
