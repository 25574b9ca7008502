/**
 * Web Push in the app (PROTOCOL.md 7.6). Headless Chromium here cannot make a real subscription:
 * `pushManager.subscribe` waits for a vendor push service that cannot be reached without the
 * internet and never answers. So the opt-in is tested as far as it is honest: the app asks for
 * permission only when the person turns notifications on, subscribes with the server's key (a
 * PushManager stand-in makes the keys a browser would), and the server stores the subscription,
 * which it shows by pushing to it (a stand-in push service on 127.0.0.1) when a DM arrives while no
 * tab is open. The test decrypts that push as the browser would and delivers it to the service
 * worker through the DevTools protocol; the notification and its click are the real ones. Muting:
 * the side bar shows it, unread still counts, and the app notifies of nothing there.
 */
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { unnamedControls } from "./a11y";
import { person, uniqueName } from "./browser";
import { recordNotifications, setHidden, shown } from "./notifications";
import { decryptPush, fakePushManager, standInPushService, type PageSubscription, type StandIn } from "./push-service";
import { apiDm, apiSignup, onlineIn, sendAll } from "./seed";
import { row, signUp } from "./steps";

const baseUrl = inject("baseUrl");

declare global {
  interface Window {
    prompts?: number;
  }
}

/** An init script: counts the permission prompts the page makes (none may come on load). */
function countPrompts(): void {
  const real = Notification.requestPermission.bind(Notification);
  window.prompts = 0;
  Notification.requestPermission = () => {
    window.prompts = (window.prompts ?? 0) + 1;
    return real();
  };
}

/** The notifications the service worker shows, as its registration lists them. */
async function notifications(context: BrowserContext): Promise<{ title: string; body: string; tag: string }[]> {
  const sw = context.serviceWorkers()[0];
  if (!sw) return [];
  return sw.evaluate(async () =>
    (await (self as unknown as { registration: ServiceWorkerRegistration }).registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag })));
}

/** Hands a push's payload to the service worker, as the browser does when its push service delivers one. */
async function deliver(context: BrowserContext, data: unknown): Promise<void> {
  const page = await context.newPage(); // about:blank: a target for the DevTools protocol, with no socket of the app
  const cdp = await context.newCDPSession(page);
  const registrations = new Promise<{ registrationId: string; scopeURL: string }[]>((resolve) => {
    cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => resolve(e.registrations));
  });
  await cdp.send("ServiceWorker.enable");
  const reg = (await registrations).find((r) => r.scopeURL === `${baseUrl}/`);
  if (!reg) throw new Error("no service worker registration");
  await cdp.send("ServiceWorker.deliverPushMessage", { origin: baseUrl, registrationId: reg.registrationId, data: JSON.stringify(data) });
  await page.close();
}

async function openSettings(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByRole("heading", { name: "Notifications" }).waitFor();
}

const pushBox = (page: Page) => page.getByRole("checkbox", { name: "Notifications on this device" });
const previewsBox = (page: Page) => page.getByRole("checkbox", { name: "Show message previews" });

describe("push notifications", () => {
  const ann = uniqueName("ann");
  const ben = uniqueName("ben");
  let service: StandIn;
  let a: Awaited<ReturnType<typeof person>>;
  let benToken = "";
  let conv = "";
  let sub: PageSubscription;

  beforeAll(async () => {
    service = await standInPushService();
    a = await person(baseUrl);
    await a.context.grantPermissions(["notifications"], { origin: baseUrl });
    await a.context.addInitScript(fakePushManager, service.endpoint(ann));
    await a.context.addInitScript(countPrompts);
    await signUp(a.page, ann);
    benToken = await apiSignup(baseUrl, ben, "Ben Bird");
    conv = await apiDm(baseUrl, benToken, ann);
  });
  afterAll(async () => {
    await a?.close();
    await service?.close();
  });

  /** Closes Ann's app and waits until the server knows she has no socket open (it pushes only then). */
  async function closeApp(): Promise<void> {
    await a.page.close();
    await expect.poll(() => onlineIn(baseUrl, benToken, conv, ann), { timeout: 30_000 }).toBe(false);
  }

  it("never asks on load; Settings offers notifications on this device, off, and previews, on", async () => {
    await openSettings(a.page);
    expect(await pushBox(a.page).isChecked()).toBe(false);
    expect(await previewsBox(a.page).isChecked()).toBe(true);
    expect(await a.page.evaluate(() => window.prompts)).toBe(0);
    expect(await unnamedControls(a.page)).toEqual([]);
  });

  it("turning it on asks permission, subscribes with the server's key and gives the server the subscription", async () => {
    const posted = a.page.waitForResponse((r) => r.url().endsWith("/api/me/push") && r.request().method() === "POST");
    await pushBox(a.page).click();
    const res = await posted;
    expect(res.status()).toBe(201);
    sub = JSON.parse((await a.page.evaluate(() => localStorage.getItem("fakePush"))) ?? "null");
    expect(res.request().postDataJSON()).toEqual(sub.json);
    expect(sub.json.endpoint).toBe(service.endpoint(ann));
    const { publicKey } = await (await fetch(`${baseUrl}/api/push/key`)).json();
    expect(await a.page.evaluate(() => localStorage.getItem("fakePushKey"))).toBe(publicKey);
    expect(await a.page.evaluate(() => window.prompts)).toBe(1);
    await expect.poll(() => pushBox(a.page).isChecked()).toBe(true);
  });

  it("a DM while no tab is open is pushed; the service worker shows it, a newer one replaces it, and a click opens the conversation", async () => {
    await closeApp();
    const [seq] = await sendAll(baseUrl, benToken, conv, ["are you up?"], "p");
    await expect.poll(() => service.received(ann).length, { timeout: 30_000 }).toBe(1);
    const payload = await decryptPush(service.received(ann)[0]!, sub);
    expect(payload).toEqual({ conv, seq, from: "Ben Bird", title: "Ben Bird", preview: "are you up?" });

    await deliver(a.context, payload);
    await expect.poll(() => notifications(a.context), { timeout: 20_000 }).toEqual([{ title: "Ben Bird", body: "Ben Bird: are you up?", tag: conv }]);
    // One per conversation: a newer message replaces it; an older one arriving late does not.
    await deliver(a.context, { conv, seq: seq! + 1, from: "Ben Bird", title: "Ben Bird", preview: "still there?" });
    await expect.poll(() => notifications(a.context), { timeout: 20_000 }).toEqual([{ title: "Ben Bird", body: "Ben Bird: still there?", tag: conv }]);
    await deliver(a.context, payload);
    // Then a push of another conversation: once it shows, the late one was handled before it.
    // (The DevTools protocol now and then drops a delivery, seen once in CI: the marker is handed
    // over again until it shows. Pushes are handled in order, so the late one still came first.)
    const marker = { conv: "elsewhere", seq: 1, from: "Cy", title: "Cy", preview: "marker" };
    await deliver(a.context, marker);
    await expect.poll(async () => {
      const now = await notifications(a.context);
      if (!now.some((n) => n.tag === "elsewhere")) await deliver(a.context, marker);
      return now;
    }, { timeout: 30_000, interval: 2_000 }).toEqual([
      { title: "Ben Bird", body: "Ben Bird: still there?", tag: conv },
      { title: "Cy", body: "Cy: marker", tag: "elsewhere" },
    ]);
    await a.context.serviceWorkers()[0]!.evaluate(async () => {
      for (const n of await (self as unknown as { registration: ServiceWorkerRegistration }).registration.getNotifications({ tag: "elsewhere" })) n.close();
    });
    // With previews off, the push has no text: the notification has no body.
    await deliver(a.context, { conv, seq: seq! + 2, from: "Ben Bird", title: "Ben Bird", preview: "" });
    await expect.poll(() => notifications(a.context), { timeout: 20_000 }).toEqual([{ title: "Ben Bird", body: "", tag: conv }]);

    // A window is open at the list: the click brings that window to the conversation.
    a.page = await a.context.newPage();
    await a.page.goto("/");
    await row(a.page, "Ben Bird").waitFor();
    await a.context.serviceWorkers()[0]!.evaluate(async () => {
      // The test's types are the page's: the worker's own are named here.
      const scope = self as unknown as { registration: ServiceWorkerRegistration; NotificationEvent: new (type: string, init: { notification: Notification }) => Event };
      const [n] = await scope.registration.getNotifications();
      self.dispatchEvent(new scope.NotificationEvent("notificationclick", { notification: n! }));
    });
    await a.page.getByRole("heading", { level: 2, name: "Ben Bird" }).waitFor();
    expect(a.page.url()).toBe(`${baseUrl}/#/c/${conv}`);
    expect(await notifications(a.context)).toEqual([]);
  });

  it("previews off: the server pushes no text", async () => {
    await openSettings(a.page);
    // The switch shows what the server holds (the subscription was given to it again on load).
    expect(await pushBox(a.page).isChecked()).toBe(true);
    const patched = a.page.waitForResponse((r) => r.url().endsWith("/api/me") && r.request().method() === "PATCH");
    await previewsBox(a.page).click();
    expect((await patched).status()).toBe(200);
    expect(await a.page.evaluate(() => fetch("/api/me").then((r) => r.json()))).toMatchObject({ user: { previews: false } });
    await closeApp();
    const [seq] = await sendAll(baseUrl, benToken, conv, ["the secret plans"], "q");
    await expect.poll(() => service.received(ann).length, { timeout: 30_000 }).toBe(2);
    expect(await decryptPush(service.received(ann)[1]!, sub)).toEqual({ conv, seq, from: "Ben Bird", title: "Ben Bird", preview: "" });
    a.page = await a.context.newPage();
    await a.page.goto("/");
  });

  it("turning it off: the server forgets the subscription, then the browser", async () => {
    await openSettings(a.page);
    await expect.poll(() => pushBox(a.page).isChecked()).toBe(true);
    const deleted = a.page.waitForResponse((r) => r.url().endsWith("/api/me/push") && r.request().method() === "DELETE");
    await pushBox(a.page).click();
    const res = await deleted;
    expect(res.status()).toBe(204);
    expect(res.request().postDataJSON()).toEqual({ endpoint: service.endpoint(ann) });
    await expect.poll(() => a.page.evaluate(() => localStorage.getItem("fakePush"))).toBeNull();
    expect(await pushBox(a.page).isChecked()).toBe(false);
  });
});

describe("muting a conversation", () => {
  const cat = uniqueName("cat");
  const dan = uniqueName("dan");
  let c: Awaited<ReturnType<typeof person>>;
  let danToken = "";
  let conv = "";

  beforeAll(async () => {
    c = await person(baseUrl);
    await c.context.grantPermissions(["notifications"], { origin: baseUrl });
    await c.context.addInitScript(recordNotifications);
    await signUp(c.page, cat);
    danToken = await apiSignup(baseUrl, dan);
    conv = await apiDm(baseUrl, danToken, cat);
  });
  afterAll(async () => { await c?.close(); });

  it("from the conversation's header: the side bar shows it, on every tab", async () => {
    const other = await c.context.newPage();
    await other.goto("/");
    await row(c.page, dan).click();
    const mute = c.page.getByRole("button", { name: "Mute", exact: true });
    expect(await mute.getAttribute("aria-pressed")).toBe("false");
    await mute.click();
    await expect.poll(() => mute.getAttribute("aria-pressed")).toBe("true");
    await row(c.page, dan).getByRole("img", { name: "muted" }).waitFor();
    // The other tab hears of it on its inbox socket.
    await row(other, dan).getByRole("img", { name: "muted" }).waitFor({ timeout: 20_000 });
    expect(await unnamedControls(c.page)).toEqual([]);
    await other.close();
  });

  it("still counts unread, but notifies of nothing; unmuted, it notifies again", async () => {
    await c.page.evaluate(() => history.back());
    await setHidden(c.page, true);
    await sendAll(baseUrl, danToken, conv, ["muted news"], "m");
    await row(c.page, dan).getByText("1 unread").waitFor({ timeout: 20_000 });
    expect(await shown(c.page)).toEqual([]);
    await setHidden(c.page, false);

    await row(c.page, dan).click();
    await c.page.getByRole("button", { name: "Mute", exact: true }).click();
    await expect.poll(() => c.page.getByRole("button", { name: "Mute", exact: true }).getAttribute("aria-pressed")).toBe("false");
    expect(await row(c.page, dan).getByRole("img", { name: "muted" }).count()).toBe(0);
    await c.page.evaluate(() => history.back());
    await setHidden(c.page, true);
    await sendAll(baseUrl, danToken, conv, ["loud news"], "n");
    await expect.poll(() => shown(c.page), { timeout: 20_000 }).toEqual([{ title: dan, body: "loud news" }]);
    await setHidden(c.page, false);
  });
});

describe("where the browser cannot subscribe", () => {
  let d: Awaited<ReturnType<typeof person>>;
  afterAll(async () => { await d?.close(); });

  it("says so, and the switch stays off (headless Chromium here: no push service answers)", async () => {
    d = await person(baseUrl);
    await d.context.grantPermissions(["notifications"], { origin: baseUrl });
    await signUp(d.page, uniqueName("eve"));
    const posts: string[] = [];
    d.page.on("request", (r) => { if (r.url().endsWith("/api/me/push")) posts.push(r.method()); });
    await openSettings(d.page);
    await pushBox(d.page).click();
    // The app gives up on a subscription that never comes (after 20 s) and says why in words.
    await d.page.getByRole("alert").filter({ hasText: "Notifications could not be turned on" }).waitFor({ timeout: 60_000 });
    expect(await pushBox(d.page).isChecked()).toBe(false);
    expect(posts).toEqual([]);
  });
});
