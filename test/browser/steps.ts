/** What a person does in the app, through accessible names (as a screen reader user would). */
import type { Locator, Page } from "playwright-core";

export const PASSWORD = "correct horse battery";

/** Opens the sign-up form (the first screen is sign-in). */
export async function toSignUp(page: Page): Promise<void> {
  await page.goto("/");
  await page.getByRole("button", { name: "New here? Create an account" }).click();
}

export async function signUp(page: Page, username: string): Promise<void> {
  await toSignUp(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

export async function startDm(page: Page, peer: string): Promise<void> {
  await page.getByRole("button", { name: "New DM" }).click();
  await page.getByLabel("Their username").fill(peer);
  await page.getByRole("button", { name: "Start", exact: true }).click();
  await page.getByRole("heading", { level: 2, name: peer, exact: true }).waitFor();
}

export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(text);
  await box.press("Enter");
}

/** The messages (in the log, or still local) whose text is exactly `text`. */
export function messages(page: Page, text: string): Locator {
  return page.locator("li.msg").filter({ has: page.locator(".body", { hasText: text }) });
}

export function tickOf(page: Page, text: string): Locator {
  return messages(page, text).locator("[data-tick]");
}

/** The side bar row of the conversation with `title`. */
export function row(page: Page, title: string): Locator {
  const exact = new RegExp(`^(# )?${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  return page.getByRole("navigation").locator("button.conv").filter({ has: page.locator(".conv-title", { hasText: exact }) });
}

/** Opens the action menu of the message `text` (its ⋯ button) and picks `item` (e.g. "Reply", "React with 🎉"). */
export async function act(page: Page, text: string, item: string): Promise<void> {
  const m = messages(page, text).first();
  await m.locator("button.menu-btn").click();
  await page.getByRole("menu").getByRole("menuitem", { name: item, exact: true }).click();
}

/** Signs in from the first screen. */
export async function signIn(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** Accepts every confirmation the page asks for (blocking, removing, deleting). */
export function acceptDialogs(page: Page): void {
  page.on("dialog", (d) => void d.accept());
}

/**
 * The value the app keeps under `key` (lib/kept.ts), read straight from IndexedDB; undefined when
 * nothing is kept. The read is ordered after every write the app began before it (same store).
 */
function keptValue<T>(page: Page, key: string | string[]): Promise<T | undefined> {
  return page.evaluate((key) => new Promise<T | undefined>((resolve) => {
    const req = indexedDB.open("edge-chat-kept");
    req.onsuccess = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains("kept")) return resolve(undefined);
      const get = db.transaction("kept").objectStore("kept").get(key);
      get.onsuccess = () => resolve(get.result as T | undefined);
    };
  }), key);
}

/** What the app keeps for conversation `conv` of `user`: the bodies of its messages. */
export async function keptBodies(page: Page, user: string, conv: string): Promise<string[]> {
  const kept = await keptValue<{ items?: { kind: string; message?: { body: string } }[] }>(page, [user, "c", conv]);
  return (kept?.items ?? []).flatMap((i) => (i.kind === "msg" && i.message ? [i.message.body] : []));
}

/** Whether a message (by its text) is inside the visible part of the message list. */
export async function inView(page: Page, text: string): Promise<boolean> {
  const [box, view] = [await messages(page, text).boundingBox(), await page.getByRole("log").boundingBox()];
  return Boolean(box && view && box.y + box.height > view.y && box.y < view.y + view.height);
}

/** My unread count in `conv` as the server has it (the page's own session asks). */
export function serverUnread(page: Page, conv: string): Promise<number | undefined> {
  return page.evaluate(async (id) => {
    const { conversations } = (await (await fetch("/api/conversations")).json()) as { conversations: { id: string; unread: number }[] };
    return conversations.find((c) => c.id === id)?.unread;
  }, conv);
}

/** The unread count the app keeps for conversation `conv` in `user`'s list; undefined when not listed. */
export async function keptUnread(page: Page, user: string, conv: string): Promise<number | undefined> {
  return ((await keptValue<{ id: string; unread: number }[]>(page, [user, "l"])) ?? []).find((s) => s.id === conv)?.unread;
}

/** The username of whoever the app keeps as signed in last; undefined when no one is kept. */
export async function keptUser(page: Page): Promise<string | undefined> {
  return (await keptValue<{ username: string }>(page, "me"))?.username;
}

/** The titles in the conversation list the app keeps for `user`. */
export async function keptTitles(page: Page, user: string): Promise<string[]> {
  return ((await keptValue<{ title: string }[]>(page, [user, "l"])) ?? []).map((s) => s.title);
}
