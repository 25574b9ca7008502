/** Notifications in the page, for the browser tests: what was shown, and a hidden tab (headless tabs are always visible). */
import type { Page } from "playwright-core";

declare global {
  interface Window {
    shown?: { title: string; body: string }[];
  }
}

/** An init script: wraps window.Notification so that every construction is recorded in window.shown. */
export function recordNotifications(): void {
  const Real = window.Notification;
  const shown: { title: string; body: string }[] = [];
  window.shown = shown;
  class Recorded extends Real {
    constructor(title: string, options?: NotificationOptions) {
      shown.push({ title, body: options?.body ?? "" });
      super(title, options);
    }
    static override get permission(): NotificationPermission {
      return Real.permission;
    }
  }
  window.Notification = Recorded;
}

export const shown = (page: Page) => page.evaluate(() => window.shown ?? []);

export async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    if (h) {
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
      Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
    } else {
      // Drop the own properties: the real (prototype) getters answer again.
      Reflect.deleteProperty(document, "visibilityState");
      Reflect.deleteProperty(document, "hidden");
    }
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}
