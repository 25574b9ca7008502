/**
 * Screenshots of the main views, light and dark, desktop (1280x800) and phone (390x844), into
 * docs/screenshots/. Skipped unless SCREENSHOTS=1: they are documentation, not a check.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, inject, it } from "vitest";
import { person } from "./browser";
import { apiDm, apiSignup, sendAll } from "./seed";
import { act, messages, row, send, signUp, startDm, toSignUp } from "./steps";

const baseUrl = inject("baseUrl");
const out = join(import.meta.dirname, "..", "..", "docs", "screenshots");
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

async function shoot(page: Page, name: string) {
  await page.mouse.move(1, 1);
  // Not in the middle of a reconnection (wrangler dev reloads the Worker when its files change).
  await expect.poll(() => page.locator(".banner").count(), { timeout: 30_000 }).toBe(0);
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(out, `${name}-${scheme}.png`) });
  }
}

describe.skipIf(process.env.SCREENSHOTS !== "1")("screenshots", () => {
  const people: Awaited<ReturnType<typeof person>>[] = [];
  afterAll(async () => { for (const p of people) await p.close(); });

  it("captures the main views", async () => {
    mkdirSync(out, { recursive: true });
    // Plain names: the screenshot run has its own fresh storage.
    const [alice, bob, wei] = ["alice", "bob", "wei"];
    const a = await person(baseUrl);
    const b = await person(baseUrl);
    const w = await person(baseUrl);
    people.push(a, b, w);
    a.page.on("dialog", (d) => void d.accept());

    // The sign-in page.
    for (const [size, viewport] of Object.entries(SIZES)) {
      await a.page.setViewportSize(viewport);
      await a.page.goto("/");
      await a.page.getByLabel("Username").waitFor();
      await shoot(a.page, `signin-${size}`);
    }
    await toSignUp(a.page);
    await a.page.getByLabel("Username").waitFor();
    await shoot(a.page, "signup-phone");
    await a.page.setViewportSize(SIZES.desktop);
    await signUp(a.page, alice);
    // A busy DM: far more than 99 unread, the last one long and on several lines.
    const grace = await apiSignup(baseUrl, "grace", "Grace Hopper");
    const dm = await apiDm(baseUrl, grace, alice);
    await sendAll(baseUrl, grace, dm, [
      ...Array.from({ length: 130 }, (_, i) => `Build ${i + 1} is green.`),
      "The nightly report is in. Summary: *all green*, `p99` latency down 12 %, two flaky tests quarantined.\nDetails at www.example.com/reports/nightly and in the ```thread```",
    ]);
    await signUp(b.page, bob);
    await signUp(w.page, wei);
    await w.page.getByLabel("Language").selectOption("zh");
    // Public rooms of Bob's, for the directory.
    for (const title of ["Lunch club", "Frontend guild"]) {
      await b.page.getByRole("button", { name: "New room" }).click();
      await b.page.getByLabel("Room name").fill(title);
      await b.page.getByRole("button", { name: "Create", exact: true }).click();
      await b.page.getByRole("heading", { level: 2, name: `# ${title}` }).waitFor();
    }

    // A room with three people.
    await a.page.getByRole("button", { name: "New room" }).click();
    await a.page.getByLabel("Room name").fill("Design review");
    await a.page.getByRole("button", { name: "Create", exact: true }).click();
    await a.page.getByRole("button", { name: "Members", exact: true }).click();
    for (const who of [bob, wei]) {
      await a.page.getByLabel("Invite by username").fill(who);
      await a.page.getByRole("button", { name: "Invite", exact: true }).click();
      await a.page.getByText(`${who} was added.`).waitFor();
    }
    await a.page.getByRole("button", { name: "Members", exact: true }).click();
    await send(a.page, "Morning! The new sign-in page is up for review: https://example.com/design/42");
    await row(b.page, "Design review").click();
    await row(w.page, "Design review").click();
    await send(b.page, "Looks clean. Can we make the buttons a bit larger on phones?");
    await messages(a.page, "Looks clean").waitFor();
    await act(a.page, "Looks clean", "Reply");
    await send(a.page, "Good idea, I'll bump them to 44 px.");
    await w.page.locator("#composer").fill("我觉得深色模式也很好看 👍");
    await w.page.locator("#composer").press("Enter");
    await messages(a.page, "深色模式").waitFor();
    await act(a.page, "深色模式", "React with 🎉");
    await messages(b.page, "深色模式").waitFor();
    await act(b.page, "深色模式", "React with 👍");
    await send(a.page, "Ship it on Fryday");
    await act(a.page, "Ship it on Fryday", "Edit");
    const box = a.page.getByRole("textbox", { name: "Message" });
    await box.fill("Ship it on Friday");
    await box.press("Enter");
    await send(a.page, "(this one was a typo)");
    await act(a.page, "(this one was a typo)", "Delete");
    await send(b.page, "🚀");
    // A DM with an unread message for Alice, and one Alice sent.
    await startDm(b.page, alice);
    await send(b.page, "Lunch at 12:30?");
    await expect.poll(() => row(a.page, bob).locator(".badge").count(), { timeout: 20_000 }).toBe(1);
    await messages(a.page, "🚀").waitFor();

    // Bob is typing in the room.
    await b.page.getByRole("navigation").locator("button.conv", { hasText: "Design review" }).click();
    await messages(b.page, "Ship it on Friday").waitFor();
    await b.page.getByRole("textbox", { name: "Message" }).pressSequentially("on my way", { delay: 50 });
    // Typing is sent at most every 3 s, and only on an open socket: keep typing until Alice sees it.
    await expect.poll(async () => {
      await b.page.getByRole("textbox", { name: "Message" }).press("Space");
      return a.page.getByText("is typing").count();
    }, { timeout: 30_000, interval: 3500 }).toBe(1);
    await shoot(a.page, "room-desktop");

    // Roles: Bob made an admin (a system line in the room), then the member list with roles.
    await a.page.getByRole("button", { name: "Members", exact: true }).click();
    await a.page.getByRole("button", { name: `Manage ${bob}` }).click();
    await a.page.getByRole("button", { name: `Make admin: ${bob}` }).click();
    await a.page.getByText("made bob an admin").first().waitFor();
    await shoot(a.page, "members-desktop");
    await a.page.getByRole("button", { name: "Members", exact: true }).click();
    // The room's settings, as its owner sees them.
    await a.page.getByRole("button", { name: "Room settings" }).click();
    await a.page.getByRole("complementary", { name: "Room settings" }).waitFor();
    await shoot(a.page, "room-settings-desktop");
    await a.page.getByRole("button", { name: "Room settings" }).click();
    // Account settings, in English and in Chinese.
    await a.page.getByRole("button", { name: "Settings", exact: true }).click();
    await a.page.getByRole("heading", { level: 2, name: "Account settings" }).waitFor();
    await shoot(a.page, "settings-desktop");
    await a.page.getByRole("button", { name: "Close", exact: true }).click();
    await w.page.getByRole("button", { name: "设置", exact: true }).click();
    await w.page.getByRole("heading", { level: 2 }).first().waitFor();
    await shoot(w.page, "settings-zh-desktop");
    await w.page.keyboard.press("Escape");

    // The directory of public rooms: two to join, one Alice is in.
    await a.page.getByRole("button", { name: "Browse rooms" }).click();
    await a.page.getByRole("button", { name: "Join Lunch club" }).waitFor();
    await shoot(a.page, "browse-desktop");
    await a.page.getByRole("button", { name: "Browse rooms" }).click();

    await a.page.setViewportSize(SIZES.phone);
    await shoot(a.page, "room-phone");
    // A message's menu, opened by a tap.
    await messages(a.page, "深色模式").locator("button.menu-btn").click();
    await a.page.getByRole("menu").waitFor();
    await shoot(a.page, "menu-phone");
    await a.page.keyboard.press("Escape");
    await a.page.getByRole("button", { name: "Back to conversations" }).click();
    await shoot(a.page, "list-phone");

    // Opening the busy DM: at the first unread message, under the divider.
    await a.page.setViewportSize(SIZES.desktop);
    await row(a.page, "Grace Hopper").click();
    await a.page.locator("li.unread-divider").waitFor();
    await shoot(a.page, "unread-desktop");

    // The Chinese interface.
    await w.page.setViewportSize(SIZES.desktop);
    await shoot(w.page, "room-zh-desktop");
  });
});
