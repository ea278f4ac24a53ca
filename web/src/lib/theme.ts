/**
 * The console's colour theme. "system" follows `prefers-color-scheme`; "light" and
 * "dark" put that class on <html>, which the `dark` variant in globals.css reads.
 */
export const THEME_PREFERENCES = ["system", "light", "dark"] as const;
export type ThemePreference = (typeof THEME_PREFERENCES)[number];

export const THEME_STORAGE_KEY = "ocore-theme";
const THEME_CHANGE_EVENT = "ocore-theme-change";

export function isThemePreference(value: unknown): value is ThemePreference {
  return typeof value === "string" && (THEME_PREFERENCES as readonly string[]).includes(value);
}

/**
 * Runs inline in <head> before the first paint so a saved theme does not flash.
 * It must stay self-contained: it is sent as text, not bundled.
 */
export const THEME_INIT_SCRIPT = `(function(){try{var t=localStorage.getItem(${JSON.stringify(
  THEME_STORAGE_KEY,
)});if(t==="light"||t==="dark")document.documentElement.classList.add(t)}catch(e){}})()`;

/** Reads the saved preference; "system" when none is saved or storage is blocked. */
export function readThemePreference(): ThemePreference {
  try {
    const saved = window.localStorage.getItem(THEME_STORAGE_KEY);
    return isThemePreference(saved) ? saved : "system";
  } catch {
    return "system";
  }
}

function applyThemePreference(preference: ThemePreference): void {
  const root = document.documentElement;
  root.classList.remove("light", "dark");
  if (preference !== "system") {
    root.classList.add(preference);
  }
}

/** Applies a preference to <html>, saves it, and tells subscribers in this tab. */
export function saveThemePreference(preference: ThemePreference): void {
  applyThemePreference(preference);
  try {
    if (preference === "system") {
      window.localStorage.removeItem(THEME_STORAGE_KEY);
    } else {
      window.localStorage.setItem(THEME_STORAGE_KEY, preference);
    }
  } catch {
    // Storage can be blocked; the choice then lasts until the page reloads.
  }
  window.dispatchEvent(new Event(THEME_CHANGE_EVENT));
}

/** Subscribes to preference changes from this tab and from other tabs. */
export function subscribeToThemePreference(onChange: () => void): () => void {
  const onStorage = (event: StorageEvent) => {
    if (event.key === THEME_STORAGE_KEY || event.key === null) {
      applyThemePreference(readThemePreference());
      onChange();
    }
  };
  window.addEventListener(THEME_CHANGE_EVENT, onChange);
  window.addEventListener("storage", onStorage);
  return () => {
    window.removeEventListener(THEME_CHANGE_EVENT, onChange);
    window.removeEventListener("storage", onStorage);
  };
}
