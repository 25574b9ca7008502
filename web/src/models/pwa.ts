/**
 * The installed app: its service worker (web/src/sw/sw.ts), the new version that waits until the
 * person agrees to reload, and Web Push on this device (PROTOCOL.md 7.6).
 */
import { computed, effect, signal } from "@preact/signals";
import { ApiFailure, call, field } from "../lib/api";
import { settingsOpen } from "./account";
import { awaitingAnswer, me, notificationsAllowed, open } from "./app";

/** A new version is installed and waits: the app offers to reload, and never reloads by itself. */
export const waiting = signal<ServiceWorker | null>(null);
/** This device has a push subscription (and, once signed in, the server has been told). */
export const pushOn = signal(false);

const sw = typeof navigator === "undefined" ? undefined : navigator.serviceWorker;

export async function registerWorker(): Promise<void> {
  if (!sw) return;
  // A notification was clicked: the service worker asks this page to open its conversation.
  sw.onmessage = (e: MessageEvent<{ open?: unknown }>) => {
    if (typeof e.data?.open !== "string") return;
    settingsOpen.value = false;
    open(e.data.open || null);
  };
  const reg = await sw.register("/sw.js");
  // The very first worker is nothing new: only one that comes after another is offered.
  const offer = (w: ServiceWorker | null) => { if (w && sw.controller) waiting.value = w; };
  offer(reg.waiting);
  reg.onupdatefound = () => {
    const w = reg.installing;
    if (w) w.onstatechange = () => { if (w.state === "installed") offer(w); };
  };
  // A tab left open for days still learns of a new version when it is looked at again.
  document.addEventListener("visibilitychange", () => { if (!document.hidden) reg.update().catch(() => {}); });
}

/** The person chose "Reload": the waiting worker takes over, then the page loads the new version. */
export function applyUpdate(): void {
  const w = waiting.value;
  if (!w || w.state === "activated") return location.reload(); // another tab already let it in
  sw?.addEventListener("controllerchange", () => location.reload());
  w.postMessage("skip");
}

const subscription = async () => (await sw?.getRegistration())?.pushManager?.getSubscription() ?? null;

/**
 * Turns push on for this device (asks the browser's permission, subscribes with the server's key,
 * gives the subscription to the server) or off (the server forgets it, then the browser).
 */
export async function setPush(on: boolean): Promise<void> {
  const old = await subscription();
  if (on) {
    const allowed = (await Notification.requestPermission()) === "granted";
    notificationsAllowed.value = allowed;
    if (!allowed) throw new ApiFailure(0, "push", "");
    const key = field(await call("GET", "/api/push/key"), "publicKey", (k): k is string => typeof k === "string");
    // A fresh subscription: the one before may be for another key.
    await old?.unsubscribe();
    const reg = await sw!.ready;
    // Without its vendor's push service (no internet, a blocked host) a browser may never answer.
    const sub = await Promise.race([
      reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }),
      new Promise<never>((_, fail) => setTimeout(fail, 20_000)),
    ]).catch(() => {
      throw new ApiFailure(0, "push", "");
    });
    await call("POST", "/api/me/push", sub.toJSON());
  } else if (old) {
    await call("DELETE", "/api/me/push", { endpoint: old.endpoint });
    await old.unsubscribe();
  }
  pushOn.value = on;
}

// Signed in: a subscription this device has is given to the server again (it may have dropped it,
// and the call is idempotent), so what the switch shows is true. Signed out: the server dropped it
// with the session; the browser drops it too, so that nobody signing in next gets it by accident.
/**
 * The username signed in, null when nobody is, undefined until known (the kept user shown at a
 * start is not known yet): a new name or setting is no change.
 */
const who = computed(() => (awaitingAnswer.value ? undefined : me.value === null ? null : me.value?.username));
effect(() => {
  const user = who.value;
  void subscription().then(async (sub) => {
    if (!sub || user === undefined) return;
    pushOn.value = !!user;
    await (user ? call("POST", "/api/me/push", sub.toJSON()) : sub.unsubscribe());
  }).catch(() => {});
});
