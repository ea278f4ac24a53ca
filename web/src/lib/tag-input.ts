/** The same rules the server applies to tags (server/src/servers/tags.ts). */
const KEY = /^[a-z0-9][a-z0-9._/-]{0,62}$/;
const VALUE = /^[A-Za-z0-9._-]{0,63}$/;

/**
 * Reads "env=prod, role=web" (commas, semicolons or new lines between tags) into a tag map, or
 * says which part is wrong and how to write it.
 */
export function parseTagInput(text: string): { tags: Record<string, string> } | { error: string } {
  const tags: Record<string, string> = {};
  for (const part of text
    .split(/[,;\n]/)
    .map((piece) => piece.trim())
    .filter(Boolean)) {
    const [key = "", value = "", ...rest] = part.split("=").map((piece) => piece.trim());
    if (rest.length > 0 || !key)
      return { error: `"${part}" is not key=value; write e.g. env=prod, role=web.` };
    if (!KEY.test(key)) {
      return { error: `The key "${key}" may only use a-z, 0-9, '.', '_', '/', '-' (up to 63 characters).` };
    }
    if (!VALUE.test(value)) {
      return {
        error: `The value of ${key} may only use letters, digits, '.', '_', '-' (up to 63 characters).`,
      };
    }
    tags[key] = value;
  }
  return { tags };
}
