/**
 * Signing up apart from signing in; display names wherever people appear (join lines, members,
 * typing) as soon as they join; counts and plurals; Escape on the side panels; errors in the
 * app's language; no stale "online" while I am offline.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { apiSignup, sendFrames } from "./seed";
import { PASSWORD, row, signUp, startDm, toSignUp } from "./steps";

const baseUrl = inject("baseUrl");

describe("people", () => {
  const me = uniqueName("nina");
  const zed = uniqueName("zed");
  const friend = uniqueName("fred");
  let a: Awaited<ReturnType<typeof person>>;
  let f: Awaited<ReturnType<typeof person>>;
  let zedToken = "";
  let roomId = "";

  beforeAll(async () => {
    a = await person(baseUrl);
    f = await person(baseUrl);
    zedToken = await apiSignup(baseUrl, zed, "Zed Zephyr");
  });
  afterAll(async () => {
    await a?.close();
    await f?.close();
  });

  it("signs up by pressing Enter on the sign-up form, which is apart from signing in", async () => {
    const page = a.page;
    await page.goto("/");
    // The first screen signs in: no display name, no "Sign up" button to hit by mistake.
    expect(await page.getByLabel("Name", { exact: true }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Sign up", exact: true }).count()).toBe(0);
    await page.getByLabel("Username").fill(me);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByLabel("Password").press("Enter");
    await page.getByRole("alert").filter({ hasText: "Wrong username or password." }).waitFor();
    await toSignUp(page);
    await page.getByRole("heading", { level: 1, name: "Create your account" }).waitFor();
    await page.getByLabel("Username").fill(me);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByLabel("Name", { exact: true }).fill("Nina N");
    await page.getByLabel("Name", { exact: true }).press("Enter");
    await page.getByRole("button", { name: "Sign out" }).waitFor();
  });

  it("says 1 member, and counts me among those online", async () => {
    const page = a.page;
    await page.getByRole("button", { name: "New room" }).click();
    await page.getByLabel("Room name").fill("Naming");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.getByRole("heading", { level: 2, name: "# Naming" }).waitFor();
    roomId = decodeURIComponent(new URL(page.url()).hash.replace("#/c/", ""));
    await expect.poll(() => page.getByTestId("conv-status").textContent()).toBe("1 member, 1 online");
    expect(await row(page, "Naming").locator(".conv-last").textContent()).toBe("1 member");
  });

  it("shows who joined by display name at once: join line, members, typing", async () => {
    const page = a.page;
    await page.getByRole("button", { name: "Members", exact: true }).click();
    await page.getByLabel("Invite by username").fill(zed.toUpperCase());
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    await page.getByText(`${zed} was added.`).waitFor(); // as stored, not as typed
    await page.locator("li.system", { hasText: "Zed Zephyr joined" }).waitFor();
    await expect.poll(() => page.locator(`[data-member="${zed}"]`).textContent()).toContain("Zed Zephyr");
    await expect.poll(() => page.getByTestId("conv-status").textContent()).toBe("2 members, 1 online");
    await sendFrames(baseUrl, zedToken, roomId, [{ t: "typing" }]);
    await page.getByText("Zed Zephyr is typing…").waitFor();
  });

  it("closes the members and search panels with Escape, focus back on their buttons", async () => {
    const page = a.page;
    await page.getByRole("complementary", { name: "Members" }).getByRole("button", { name: "Close" }).focus();
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("complementary", { name: "Members" }).count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("toggle-members");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByLabel("Search this conversation").waitFor();
    // The panel takes the focus in a later render: Escape pressed before it lands elsewhere.
    await expect.poll(() => page.getByLabel("Search this conversation").evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("complementary", { name: "Search" }).count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("toggle-search");
  });

  it("shows presence as unknown while I am offline, not the last \"online\"", async () => {
    await signUp(f.page, friend);
    await startDm(a.page, friend);
    const status = a.page.getByTestId("conv-status");
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe("online");
    await expect.poll(() => row(a.page, friend).locator(".dot.on").count(), { timeout: 20_000 }).toBe(1);
    await a.context.setOffline(true);
    await expect.poll(() => status.textContent()).toBe("status unknown while you are offline");
    expect(await row(a.page, friend).locator(".dot").count()).toBe(0);
    await a.context.setOffline(false);
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe("online");
  });

  it("gives errors in the app's language", async () => {
    const page = a.page;
    await page.getByLabel("Language").selectOption("zh");
    await page.getByRole("button", { name: "新私聊" }).click();
    await page.getByLabel("对方的用户名").fill(me);
    await page.getByLabel("对方的用户名").press("Enter");
    await page.getByRole("alert").filter({ hasText: "私聊需要选择除你以外的人。" }).waitFor();
    await page.getByLabel("语言").selectOption("en");
  });
});
