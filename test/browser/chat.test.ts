/**
 * Two people in two browsers: sign up, open a DM, exchange messages, ticks turn to read, the unread
 * badge and presence change; hostile text stays text.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { messages, row, send, signUp, startDm, tickOf } from "./steps";

const baseUrl = inject("baseUrl");

describe("two people chatting", () => {
  const alice = uniqueName("alice");
  const bob = uniqueName("bob");
  let a: Awaited<ReturnType<typeof person>>;
  let b: Awaited<ReturnType<typeof person>>;

  // Anything the strict Content-Security-Policy blocked (an inline style, a script, a request).
  const blocked: string[] = [];

  beforeAll(async () => {
    a = await person(baseUrl);
    b = await person(baseUrl);
    for (const p of [a.page, b.page]) {
      p.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
    }
    await signUp(a.page, alice);
    await signUp(b.page, bob);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("is served with the strict Content-Security-Policy", async () => {
    const res = await fetch(`${baseUrl}/`);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'; style-src 'self'");
    expect(await res.text()).not.toMatch(/<script(?![^>]*\bsrc=)|\sstyle=/);
  });

  it("delivers messages both ways, with ticks up to read and an unread badge", async () => {
    await startDm(a.page, bob);
    await send(a.page, "hello bob");
    await expect.poll(() => tickOf(a.page, "hello bob").getAttribute("data-tick")).toMatch(/^(sent|delivered)$/);

    // Bob has not opened it: the DM shows in his side bar with one unread message.
    const bobRow = row(b.page, alice);
    await expect.poll(() => bobRow.locator(".badge").textContent(), { timeout: 20_000 }).toBe("1");
    expect(await b.page.title()).toBe("(1) Edge chat");

    await bobRow.click();
    await expect.poll(() => messages(b.page, "hello bob").count()).toBe(1);
    await expect.poll(() => tickOf(a.page, "hello bob").getAttribute("data-tick")).toBe("read");
    await expect.poll(() => bobRow.locator(".badge").count()).toBe(0);
    expect(await b.page.title()).toBe("Edge chat");

    await send(b.page, "hi alice");
    await expect.poll(() => messages(a.page, "hi alice").count()).toBe(1);
    await expect.poll(() => tickOf(b.page, "hi alice").getAttribute("data-tick")).toBe("read");
    // Own and others' messages are styled apart.
    expect(await messages(a.page, "hello bob").getAttribute("class")).toContain("mine");
    expect(await messages(a.page, "hi alice").getAttribute("class")).toContain("theirs");
  });

  it("shows the other person's presence change", async () => {
    const status = a.page.getByTestId("conv-status");
    await expect.poll(() => status.textContent()).toBe("online");
    await b.page.getByRole("button", { name: "Sign out" }).click();
    await b.page.getByRole("button", { name: "Sign in" }).waitFor();
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe("last seen just now"); // issue 14: when, not just "offline"
    // The side bar's dot follows (through the inbox socket).
    await expect.poll(() => row(a.page, bob).locator(".dot.on").count(), { timeout: 30_000 }).toBe(0);
    // And back.
    await b.page.getByLabel("Username").fill(bob);
    await b.page.getByLabel("Password").fill("correct horse battery");
    await b.page.getByRole("button", { name: "Sign in" }).click();
    await row(b.page, alice).click();
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe("online");
    await expect.poll(() => row(a.page, bob).locator(".dot.on").count(), { timeout: 30_000 }).toBe(1);
  });

  it("creates a room that the other joins by its id, with a system line for the join", async () => {
    await a.page.getByRole("button", { name: "New room" }).click();
    await a.page.getByLabel("Room name").fill("Lobby");
    await a.page.getByRole("button", { name: "Create", exact: true }).click();
    await a.page.getByRole("heading", { level: 2, name: "# Lobby" }).waitFor();
    const id = decodeURIComponent(new URL(a.page.url()).hash.replace("#/c/", ""));
    await b.page.getByRole("button", { name: "Join room" }).click();
    await b.page.getByLabel("Room id").fill(id);
    await b.page.getByRole("button", { name: "Join", exact: true }).click();
    await b.page.getByRole("heading", { level: 2, name: "# Lobby" }).waitFor();
    await expect.poll(() => a.page.locator("li.system", { hasText: `${bob} joined` }).count()).toBe(1);
    await send(b.page, "hello room");
    await expect.poll(() => messages(a.page, "hello room").count()).toBe(1);
    await row(a.page, bob).click();
    await row(b.page, alice).click();
  });

  it("renders markup in a message as text", async () => {
    let alerted = false;
    b.page.on("dialog", (d) => { alerted = true; void d.dismiss(); });
    const hostile = "<img src=x onerror=alert(1)> <b>bold</b> javascript:alert(2) https://example.com/ok";
    await send(a.page, hostile);
    const shown = messages(b.page, "<img src=x");
    await expect.poll(() => shown.count()).toBe(1);
    expect(await shown.locator(".body").textContent()).toBe(hostile);
    expect(await b.page.locator(".messages img, .messages b").count()).toBe(0);
    // Only the https link is a link, and it cannot reach back to this page.
    const links = shown.locator("a");
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute("href")).toBe("https://example.com/ok");
    expect(await links.getAttribute("rel")).toBe("noopener noreferrer");
    expect(alerted).toBe(false);
    expect(blocked).toEqual([]);
  });
});
