/** Checks of what a screen reader is told. */
import type { Page } from "playwright-core";

/** Controls without an accessible name (aria-label, aria-labelledby, a <label>, or their text). */
export function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>("button, input, textarea, select, a[href], [role=button]")) {
      const labels = "labels" in el && el.labels instanceof NodeList ? [...el.labels].map((l) => l.textContent ?? "") : [];
      const byId = (el.getAttribute("aria-labelledby") ?? "").split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? "");
      const name = [el.getAttribute("aria-label") ?? "", ...labels, ...byId, el.tagName === "BUTTON" || el.tagName === "A" ? (el.textContent ?? "") : ""].join("").trim();
      if (!name) out.push(el.outerHTML.slice(0, 120));
    }
    return out;
  });
}
