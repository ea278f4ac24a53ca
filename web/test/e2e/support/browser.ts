import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

const CHROMIUM = process.env.OCORE_TEST_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Debian's Chromium, headless. The background-networking flags matter: without them Chromium
 * keeps dialing Google's hosts, which this closed network refuses.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is needed by the console tests and ${CHROMIUM} does not exist. ` +
        "Install it (Debian: apt-get install chromium) or set OCORE_TEST_CHROMIUM to its path.",
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
