/** Headless Chromium from Debian's package, through playwright-core. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A persistent context per person: its own profile directory (cookies, IndexedDB), removed at the end. */
export async function person(baseUrl: string, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "edge-chat-profile-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    locale: "en-US",
    viewport: { width: 1280, height: 800 },
    baseURL: baseUrl,
    ...options,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let n = 0;
/** A username no other test run uses. */
export function uniqueName(prefix: string): string {
  n++;
  return `${prefix}${Date.now().toString(36)}${n}`.slice(0, 32);
}
