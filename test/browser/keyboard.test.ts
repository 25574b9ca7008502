/** The app by keyboard alone, and an accessible name on every control. */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { unnamedControls } from "./a11y";
import { messages, PASSWORD, signUp } from "./steps";

const baseUrl = inject("baseUrl");

/** Presses Tab until the focused element matches, at most `max` times. */
async function tabTo(page: Page, matches: (el: { tag: string; name: string }) => boolean, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const el = await page.evaluate(() => {
      const a = document.activeElement;
      return { tag: a?.tagName.toLowerCase() ?? "", name: (a?.getAttribute("aria-label") ?? a?.textContent ?? "").trim() };
    });
    if (matches(el)) return;
  }
  throw new Error("focus never reached the element");
}

describe("keyboard and labels", () => {
  const me = uniqueName("kim");
  const peer = uniqueName("lee");
  let a: Awaited<ReturnType<typeof person>>;
  let b: Awaited<ReturnType<typeof person>>;

  beforeAll(async () => {
    a = await person(baseUrl);
    b = await person(baseUrl);
    await signUp(b.page, peer);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("signs up, starts a DM and sends a message without a mouse", async () => {
    const page = a.page;
    await page.goto("/");
    await page.getByLabel("Username").waitFor();
    expect(await unnamedControls(page)).toEqual([]);
    // Sign-up is its own form: reached from sign-in, and Enter in it signs up.
    await tabTo(page, (el) => el.name === "New here? Create an account");
    await page.keyboard.press("Enter");
    await page.keyboard.type(me); // the username field has the focus
    await page.keyboard.press("Tab");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Sign out" }).waitFor();

    await tabTo(page, (el) => el.name === "New DM");
    await page.keyboard.press("Enter");
    await page.keyboard.type(peer); // the field has the focus
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 2, name: peer, exact: true }).waitFor();
    await page.keyboard.type("typed, not clicked"); // the composer has the focus
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type("second line");
    await page.keyboard.press("Enter");
    await expect.poll(() => messages(page, "typed, not clicked").count()).toBe(1);
    expect(await messages(page, "typed, not clicked").locator(".body").textContent()).toBe("typed, not clicked\nsecond line");
    expect(await unnamedControls(page)).toEqual([]);

    // The members and search panels too.
    await page.getByRole("button", { name: "Members", exact: true }).click();
    await page.getByRole("button", { name: "Search", exact: true }).click();
    // The panel focuses its field once it has rendered (an effect, a frame later): wait for that,
    // or a render that lands after the directory opens below takes the focus from its field.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("placeholder"))).toBe("Search this conversation");
    expect(await unnamedControls(page)).toEqual([]);
    // And the directory of public rooms, opened from the keyboard: the focus lands in its search field.
    await page.getByRole("button", { name: "Browse rooms" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("placeholder"))).toBe("Search public rooms");
    await page.getByRole("list", { name: "Browse rooms" }).waitFor();
    expect(await unnamedControls(page)).toEqual([]);
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("searchbox", { name: "Search public rooms" }).count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Browse rooms");
  });
});
