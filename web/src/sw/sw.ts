/**
 * The service worker (built by web/build.mjs as /sw.js, a stable URL). It keeps the app shell (the
 * page, its hashed script and style sheet, the manifest) in a cache named after this build, so the
 * app starts without a network; the conversations and messages it shows then come from IndexedDB
 * (web/src/lib/kept.ts). A new build installs beside the old one and waits: the app offers to
 * reload and sends "skip" only when the person agrees. It also shows Web Push notifications
 * (PROTOCOL.md 7.6) and opens their conversation when one is clicked.
 */
import type { PushPayload } from "../../../protocol/push";

declare const self: ServiceWorkerGlobalScope;
/** Injected by web/build.mjs: the shell's paths, and a hash of their contents. */
declare const SHELL: string[];
declare const VERSION: string;

const CACHE = `shell-${VERSION}`;

// The server has the HTTP cache revalidate the page and the manifest, and the other files'
// names change with their content: what is fetched here is always this build's.
self.oninstall = (e) => e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)));

self.onactivate = (e) => {
  e.waitUntil(
    caches.keys()
      // Every cache of this origin is an older shell: the app keeps its data in IndexedDB.
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
};

self.onmessage = (e) => {
  if (e.data === "skip") void self.skipWaiting();
};

self.onfetch = (e) => {
  const r = e.request;
  const url = new URL(r.url);
  if (r.method !== "GET" || url.origin !== location.origin) return;
  // Only the page itself and the shell's files: any other navigation (a file download) or request
  // (the API, files, sockets) goes to the network as if there were no service worker.
  const key = r.mode === "navigate" ? (url.pathname === "/" ? "/" : null) : SHELL.includes(url.pathname) ? url.pathname : null;
  if (key) e.respondWith(caches.match(key).then((hit) => hit ?? fetch(r)));
};

self.onpush = (e) => {
  let p: Partial<PushPayload> = {};
  try {
    p = e.data?.json() ?? {};
  } catch {
    /* not JSON: still say that something arrived */
  }
  const conv = `${p.conv ?? ""}`;
  const reg = self.registration;
  e.waitUntil(
    reg.getNotifications({ tag: conv }).then((shown) => {
      // Pushes may arrive out of order: an older message does not replace a newer one.
      if (shown.some((n) => (n.data?.seq ?? 0) > (p.seq ?? 0))) return;
      // `renotify` is not in TypeScript's lib yet.
      const options: NotificationOptions & { renotify: boolean } = {
        body: p.preview ? `${p.from}: ${p.preview}` : "",
        // One per conversation: a newer message replaces the older one and alerts again.
        tag: conv,
        renotify: conv !== "",
        icon: "/icons/icon-192.png",
        data: { conv, seq: p.seq ?? 0 },
      };
      return reg.showNotification(p.title || "Edge chat", options);
    }),
  );
};

self.onnotificationclick = (e) => {
  e.notification.close();
  const conv: string = e.notification.data?.conv ?? "";
  // Marks nothing read: the app opens the conversation, and reads it as it does when tapped.
  const work = self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(async (wins) => {
    const w = wins.find((c) => c.focused) ?? wins[0];
    if (!w) return void (await self.clients.openWindow(`/#/c/${encodeURIComponent(conv)}`));
    // A message, not a navigation: the open page keeps what the person was typing.
    w.postMessage({ open: conv });
    await w.focus();
  });
  e.waitUntil(work);
};
