"use client";

import { useId, useSyncExternalStore } from "react";
import {
  isThemePreference,
  readThemePreference,
  saveThemePreference,
  subscribeToThemePreference,
  THEME_PREFERENCES,
  type ThemePreference,
} from "@/lib/theme";

const LABELS: Record<ThemePreference, string> = { system: "System", light: "Light", dark: "Dark" };

// The server cannot know the saved theme; it renders "system" and the browser
// corrects it after hydration (the page colours are already right, see layout.tsx).
const getServerSnapshot = (): ThemePreference => "system";

export function ThemeSelect() {
  const id = useId();
  const preference = useSyncExternalStore(subscribeToThemePreference, readThemePreference, getServerSnapshot);
  return (
    <div className="ml-auto flex items-center gap-2 text-sm">
      <label htmlFor={id} className="text-ink-muted">
        Theme
      </label>
      <select
        id={id}
        value={preference}
        onChange={(event) => {
          if (isThemePreference(event.target.value)) {
            saveThemePreference(event.target.value);
          }
        }}
        className="rounded-md border border-line bg-surface px-2 py-1 text-ink"
      >
        {THEME_PREFERENCES.map((value) => (
          <option key={value} value={value}>
            {LABELS[value]}
          </option>
        ))}
      </select>
    </div>
  );
}
