import type { CommandHandler, CommandHandlerLoader } from "./command-handler.js";

/** Finds a command's handler by its spec's type name. */
export type HandlerLookup = (typeName: string) => Promise<CommandHandler | undefined>;

/**
 * The handlers at hand, plus lazy groups loaded once, the first time a command's type is not among
 * them (the registry keeps rarely used handlers and their libraries unloaded until needed). A failed
 * load is tried again by the next command.
 */
export function createHandlerLookup(
  handlers: readonly CommandHandler[],
  lazyLoaders: readonly CommandHandlerLoader[] = [],
): HandlerLookup {
  const byType = new Map(handlers.map((handler) => [handler.input.typeName, handler]));
  let loaders = lazyLoaders;
  let loading: Promise<void> | undefined;
  return async (typeName) => {
    if (byType.has(typeName) || loaders.length === 0) return byType.get(typeName);
    loading ??= Promise.all(loaders.map((load) => load())).then(
      (groups) => {
        for (const handler of groups.flat()) {
          if (!byType.has(handler.input.typeName)) byType.set(handler.input.typeName, handler);
        }
        loaders = [];
      },
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    await loading;
    return byType.get(typeName);
  };
}
