/**
 * The app's controller: who is signed in, the inbox socket, the conversation on screen and the
 * sessions that still deliver, the outbox, the tab title, desktop notifications and the network.
 */
import { batch, computed, effect, signal } from "@preact/signals";
import { mentions } from "../../../protocol/markup";
import { CLOSE, parseInboxFrame, readMessage, readSummary, type Message, type Me, type Summary } from "../../../protocol";
import { api, ApiFailure, type RoomListing } from "../lib/api";
import { pendingBytes, textOf } from "../lib/files";
import { newClientId } from "../lib/ids";
import { t } from "../lib/i18n";
import { DelayedFlag } from "../lib/delayed-flag";
import { KeepSchedule } from "../lib/keep-schedule";
import { drop, forget as forgetKept, keep as put, kept, keptConversations, type KeptConv } from "../lib/kept";
import { Outbox, type OutboxEntry } from "../lib/outbox";
import { ReconnectingSocket, type ConnState } from "../lib/socket";
import { menuFor } from "./compose";
import { forgetBlocks, loadBlocks } from "./blocks";
import { forgetDrafts } from "./drafts";
import { InboxModel } from "./inbox";
import { learnNames, nameOf } from "./names";
import { loadPins } from "./pins";
import { ConversationSession } from "./session";

export const me = signal<Me | null | undefined>(undefined);
export const inbox = new InboxModel();
export const currentId = signal<string | null>(null);
export const sessions = signal<ReadonlyMap<string, ConversationSession>>(new Map());
export const current = computed(() => (currentId.value ? (sessions.value.get(currentId.value) ?? null) : null));
export const networkUp = signal(typeof navigator === "undefined" ? true : navigator.onLine);
export const inboxState = signal<ConnState>("closed");
/** The inbox's open connection has been answered: see ConversationSession.live. */
const inboxLive = signal(false);
/** A room opened from an invite link (#/join/ID) that I am not in yet: the view asks before joining. */
export const pendingJoin = signal<{ id: string; token?: string } | null>(null);
/** The view reports whether the message list is scrolled to the bottom. */
export const atBottom = signal(true);
/**
 * Why the app went back to the sign-in screen by itself: another device ended this session, the
 * account was erased, or a start found the session kept from last time gone.
 */
export type SignedOutWhy = "revoked" | "erased" | "ended";
/** Why the app went back to the sign-in screen by itself, said there; null when the person asked. */
export const signedOutWhy = signal<SignedOutWhy | null>(null);
export const visible = signal(typeof document === "undefined" ? true : document.visibilityState === "visible");

const outbox = new Outbox();
/** Kept conversations not opened yet since signing in: the first session of each starts from it. */
let keptConvs = new Map<string, KeptConv>();
let inboxSocket: ReconnectingSocket | null = null;
/** The last `read` sent for each conversation, and after which of its welcomes (see markRead). */
const lastReadSent = new Map<string, { seq: number; welcome: number }>();

function socketUrl(path: string): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}

// ---- signing in and out ---------------------------------------------------------------------

export async function boot(): Promise<void> {
  addEventListener("online", () => setNetwork(true));
  addEventListener("offline", () => setNetwork(false));
  document.addEventListener("visibilitychange", () => { visible.value = document.visibilityState === "visible"; });
  // A reload or a closed tab must not lose the last second of what is kept.
  addEventListener("pagehide", () => keeping.now());
  addEventListener("hashchange", () => openFromHash());
  addEventListener("popstate", () => openFromHash());
  // Who is signed in is the server's to say, but the answer is a round trip (more, with an object
  // to wake). Whoever was signed in last is most often still: their kept state is shown meanwhile.
  const asked = api.me().then((user) => ({ user }), () => null);
  const last = await kept<Me>("me").catch(() => undefined);
  if (last) return startAs(last, asked);
  const answer = await asked;
  if (answer?.user) await signedIn(answer.user);
  else me.value = null;
}

/**
 * True while the screen shows the last user's kept state and the server has not yet said who is
 * signed in: sockets are made but not opened (one would be refused if the session had ended), and
 * nothing is asked or told in that user's name (the cookie may be someone else's by now).
 */
export const awaitingAnswer = signal(false);

/**
 * Starts as `last`, from what was kept, before the server's answer (`asked`; null: none came, as
 * offline). The same user: the sockets open. No one (signed out from another device, or the
 * session expired) or someone else: what was kept goes, as on any sign-out, and a link in the
 * address stays for after signing in. Without an answer the sockets open anyway and find out
 * themselves (4401 signs out), as a start without a network always has.
 */
async function startAs(last: Me, asked: Promise<{ user: Me | null } | null>): Promise<void> {
  awaitingAnswer.value = true;
  let answer: { user: Me | null } | null;
  try {
    await signedIn(last);
    answer = await asked;
  } catch (err) {
    awaitingAnswer.value = false;
    throw err;
  }
  // Signed out by hand meanwhile: nothing left to confirm.
  if (me.value?.username !== last.username) {
    awaitingAnswer.value = false;
    return;
  }
  const user = answer === null ? last : answer.user;
  if (user?.username === last.username) {
    batch(() => {
      awaitingAnswer.value = false;
      if (answer) {
        learnNames([user]);
        me.value = user; // a name or setting changed on another device
      }
    });
    for (const socket of allSockets()) launch(socket);
    askServer();
    return;
  }
  // Someone else now: their start, no word needed. No one: the screen just showed this person's
  // conversations, so the sign-in screen says why they went. The answer stays pending until then,
  // so nothing is told in the first person's name under the new cookie.
  await signedOut(user ? null : "ended", true);
  awaitingAnswer.value = false;
  if (user) await signedIn(user);
}

/** Opens a new socket; offline it waits paused (resume()), and before the answer it waits unopened. */
function launch(socket: ReconnectingSocket): void {
  if (!networkUp.value) socket.pause();
  else if (!awaitingAnswer.value) socket.start();
}

/** What a start shows before the server answers, and the messages typed before a reload. */
interface Start {
  list: Summary[] | undefined;
  convs: KeptConv[];
  pending: OutboxEntry[];
}

async function readStart(user: string): Promise<Start> {
  const [list, convs, pending] = await Promise.all([
    kept<Summary[]>([user, "l"]).catch(() => undefined),
    keptConversations(user).catch(() => []),
    outbox.list(user).catch(() => []),
  ]);
  return { list, convs, pending };
}

/** `name` (the display name) is used on sign-up only. */
export async function signIn(kind: "signup" | "login", username: string, password: string, name = ""): Promise<void> {
  const user = kind === "signup" ? await api.signup(username, password, name.trim() || undefined) : await api.login(username, password);
  await signedIn(user);
}

async function signedIn(user: Me): Promise<void> {
  const started = readStart(user.username);
  learnNames([user]);
  loadPins(user.username);
  signedOutWhy.value = null;
  me.value = user;
  if (!awaitingAnswer.value) askServer();
  inboxSocket = new ReconnectingSocket({
    url: () => socketUrl("/inbox"),
    onFrames: (values) => {
      for (const v of values) {
        const parsed = parseInboxFrame(v);
        if (parsed.ok) onInboxFrame(parsed.frame);
      }
    },
    onState: (s, answered) => {
      batch(() => {
        inboxState.value = s;
        inboxLive.value = answered;
      });
    },
    onFinal: (code) => { if (code === CLOSE.UNAUTHORIZED) signedOutByServer(); },
  });
  // Offline, a paused socket starts when the network comes back (resume()).
  launch(inboxSocket);
  // What was kept, until the server answers.
  const { list, convs, pending } = await started;
  if (!inbox.loaded.value && list) inbox.conversations.value = list;
  keptConvs = new Map(convs.map((k) => [k.id, k]));
  // Messages typed before a reload: deliver them (their conversation gets a socket until done).
  for (const entry of pending) {
    const s = ensureSession(entry.conv);
    s.model.addLocal({ id: entry.id, body: entry.body, created: entry.created, ...(entry.replyTo ? { replyTo: entry.replyTo } : {}), ...(entry.files ? { files: entry.files } : {}), ...(entry.failed ? { failed: entry.failed } : {}) });
  }
  openFromHash();
}

/**
 * What a start asks of the server besides the sockets: who I block, and the list once (so the side
 * bar fills even before the inbox socket answers). Not before the server has said who is signed
 * in: the cookie may be someone else's by now.
 */
function askServer(): void {
  loadBlocks().catch(() => {}); // without the list, blocked people's room messages are simply shown
  api.conversations().then((list) => {
    if (!inbox.loaded.value) inbox.replace(list.map(readSummary).filter((s): s is Summary => s !== null));
  }).catch(() => {});
}

export async function signOut(): Promise<void> {
  if (me.value) forgetDrafts(me.value.username);
  await api.logout().catch(() => {});
  await signedOut();
}

/**
 * Set while a request of this device's own ends every session (erasing the account). The server
 * closes the sockets (4401) before it answers, so a close in that time is this request, and the
 * sign-in screen must say so rather than "signed out from another device".
 */
let endingWhy: "erased" | null = null;

/** Runs `request`, reading any 4401 that arrives meanwhile as `why`. */
export async function endingSessions<T>(why: "erased", request: () => Promise<T>): Promise<T> {
  endingWhy = why;
  try {
    return await request();
  } finally {
    endingWhy = null;
  }
}

/** A socket closed with 4401: another device ended this session, or this device's own request did. */
function signedOutByServer(): void {
  void signedOut(endingWhy ?? "revoked");
}

/**
 * Back to the sign-in screen; `why` is said there when the person did not ask for it. `keepLink`:
 * the conversation in the address opens after signing in (a start that found the session gone).
 */
export async function signedOut(why: SignedOutWhy | null = null, keepLink = false): Promise<void> {
  const user = me.value;
  if (!user) return;
  inboxSocket?.stop();
  inboxSocket = null;
  for (const s of sessions.value.values()) s.stop();
  batch(() => {
    sessions.value = new Map();
    currentId.value = null;
    inbox.clear();
    forgetBlocks();
    signedOutWhy.value = why;
    me.value = null;
  });
  lastReadSent.clear();
  keeping.reset();
  changed.clear();
  void forgetKept(user.username).catch(() => {});
  if (location.hash && !keepLink) history.replaceState(null, "", location.pathname);
}

function setNetwork(up: boolean): void {
  networkUp.value = up;
  if (awaitingAnswer.value) return; // the answer opens them, or leaves them paused
  // Offline, sockets may look open while nothing passes: close them and wait for the network.
  for (const s of allSockets()) up ? s.resume() : s.pause();
}

/** The inbox's socket and every conversation's. */
function allSockets(): ReconnectingSocket[] {
  return [...(inboxSocket ? [inboxSocket] : []), ...[...sessions.value.values()].map((s) => s.socket)];
}

// ---- the inbox --------------------------------------------------------------------------------

function onInboxFrame(frame: Parameters<InboxModel["receive"]>[0]): void {
  // Whether this message mentions me: the server's count of my unread mentions went up with it.
  const mentionsBefore = frame.t === "activity" ? (inbox.find(frame.conv)?.mentions ?? 0) : 0;
  inbox.receive(frame);
  // Removed, banned or the room deleted: a socket kept only to deliver goes too (the one on screen
  // stays, to say why it closed).
  if (frame.t === "left") {
    dropIfIdle(frame.conv);
    if (me.value) void drop([me.value.username, "c", frame.conv]).catch(() => {});
  }
  // A fresh list may count as unread what is on screen right now.
  if (frame.t === "inbox") markRead();
  if (frame.t === "activity") {
    const reading = frame.conv === currentId.value && visible.value && atBottom.value;
    if (reading) inbox.markedRead(frame.conv, frame.seq);
    if (frame.from !== me.value?.username && !sessions.value.has(frame.conv)) {
      notify(frame.conv, frame.from, frame.preview, (frame.mentions ?? 0) > mentionsBefore);
    }
  }
}

// ---- conversations --------------------------------------------------------------------------

function ensureSession(id: string): ConversationSession {
  const existing = sessions.value.get(id);
  // A session the server refused for good (removed, say) is not reused: opened again (after
  // joining back), the conversation gets a new socket.
  if (existing && existing.refused.value === null) return existing;
  existing?.stop();
  const user = me.value?.username ?? "";
  const known = inbox.find(id);
  const k = keptConvs.get(id);
  keptConvs.delete(id);
  // From what was kept, or a little before the end, so recent joins and reactions show as
  // events; older messages come from `history`.
  const since = k ? k.applied : known ? Math.max(0, known.lastSeq - 100) : null;
  const s = new ConversationSession(id, since, {
    outbox,
    user,
    socketUrl,
    onIncoming: (conv, m) => onIncoming(conv, m),
    onApplied: (conv) => afterApplied(conv),
    onWelcome: (conv, at) => placeAtWelcome(conv, at),
    onFinal: (conv, code) => { if (code === CLOSE.UNAUTHORIZED) signedOutByServer(); else dropIfIdle(conv); },
  });
  if (k) s.model.restore(k);
  sessions.value = new Map(sessions.value).set(id, s);
  launch(s.socket);
  return s;
}

function dropIfIdle(id: string): void {
  const s = sessions.value.get(id);
  if (!s || id === currentId.value || (!s.idle() && s.refused.value === null)) return;
  s.stop();
  const next = new Map(sessions.value);
  next.delete(id);
  sessions.value = next;
}

/** Shows a conversation (or none); `push` adds a history entry, so Back returns to the list. */
export function open(id: string | null, push = true): void {
  const previous = currentId.value;
  if (id) pendingJoin.value = null;
  if (id === previous && (id === null || sessions.value.get(id)?.refused.value === null)) return;
  menuFor.value = null; // a message menu belongs to the conversation it was opened in
  currentId.value = id;
  placing = null;
  if (id) {
    const s = ensureSession(id);
    s.movedByPerson = false;
    place(s, inbox.find(id));
    // Not yet welcomed: the list may be older than the server (kept from an earlier visit, or
    // counted before messages that came while the app was closed). The welcome decides.
    if (!s.model.ready.value) placing = id;
  } else atBottom.value = true;
  if (previous) dropIfIdle(previous);
  const hash = id ? `#/c/${encodeURIComponent(id)}` : "";
  if (push && location.hash !== hash) history.pushState(null, "", hash || location.pathname);
}

/** The conversation opened before its socket's first welcome, whose place that welcome decides. */
let placing: string | null = null;

/**
 * Where a conversation opens: at my first unread message, under the "new messages" divider, or at
 * the end. With unread messages nothing is marked read until the person scrolls down to the end.
 */
function place(s: ConversationSession, at: { readSeq: number; unread: number } | undefined): void {
  const unread = at !== undefined && at.unread > 0;
  atBottom.value = !unread;
  s.newAfter.value = unread ? at.readSeq : null;
  if (unread) s.reveal(at.readSeq + 1, false);
  else if (s.target.value !== null) s.revealEnd();
}

/**
 * A conversation's socket was welcomed: if it is the one still opening, open it where the server
 * says; if the person already scrolled it, only the divider moves, not the list.
 */
function placeAtWelcome(conv: string, at: Summary): void {
  if (placing !== conv || currentId.value !== conv) return;
  placing = null;
  const s = sessions.value.get(conv);
  const after = at.unread > 0 ? at.readSeq : null;
  if (!s || s.newAfter.value === after) return; // as opened
  if (s.movedByPerson) s.newAfter.value = after;
  else place(s, at);
}

function openFromHash(): void {
  if (!me.value) return;
  // #/join/ID, or #/join/ID/TOKEN for a private room's invite link.
  const m = /^#\/(c|join)\/([^/]+)(?:\/([\w-]+))?$/.exec(location.hash);
  let id: string | null = null;
  try {
    id = m ? decodeURIComponent(m[2]!) : null;
  } catch {
    id = null; // a malformed link opens nothing
  }
  // An invite link to a room I am not in: ask first (joining is a choice, not a side effect of a click).
  const invited = m?.[1] === "join" && id !== null && inbox.loaded.value && !inbox.find(id);
  open(invited ? null : id, false);
  pendingJoin.value = invited && id !== null ? { id, ...(m?.[3] ? { token: m[3] } : {}) } : null;
}

/** The link that opens the app at a room's join screen (with a private room's invite token). */
export function inviteLink(id: string, token?: string): string {
  return `${location.origin}${location.pathname}#/join/${encodeURIComponent(id)}${token ? `/${token}` : ""}`;
}

function onIncoming(conv: string, m: Message): void {
  if (!visible.value) notify(conv, m.from, textOf(m), mentions(m.body).includes(me.value?.username ?? ""));
}

function afterApplied(conv: string): void {
  const s = sessions.value.get(conv);
  if (!s) return;
  keep(conv);
  const last = [...s.model.timeline.value].reverse().find((i) => i.kind === "msg");
  if (last?.kind === "msg") inbox.sawMessage(conv, last.message);
  markRead();
  if (conv !== currentId.value) dropIfIdle(conv);
}

// ---- what is kept for starting offline (lib/kept.ts) --------------------------------------------

const changed = new Set<string>();

/** Writes who I am, the list and the conversations that changed since the last write. */
function writeKept(): void {
  const user = me.value;
  if (!user) return;
  const writes: unknown[] = [put("me", user), inbox.loaded.value && put([user.username, "l"], inbox.conversations.value)];
  for (const id of changed) {
    const m = sessions.value.get(id)?.model;
    const k: KeptConv | null = m?.applied != null && inbox.find(id) ? { id, applied: m.applied, items: m.timeline.value.slice(-60), members: m.members.value, at: Date.now() } : null;
    writes.push(k && put([user.username, "c", id], k));
  }
  Promise.all(writes).catch(() => {});
  changed.clear();
}

const keeping = new KeepSchedule(writeKept);

/** A conversation's recent part changed: kept with the next write. */
function keep(conv: string): void {
  changed.add(conv);
  keeping.soon();
}

// The list and who I am (a new name too) are kept whenever they change; a conversation gone from
// the list at once (keep-schedule.ts).
effect(() => {
  const list = inbox.conversations.value;
  if (me.value) keeping.listChanged(list.map((c) => c.id));
});

/**
 * Sends `read` for the conversation on screen when it is visible and scrolled to the end. Not
 * again for a mark the server holds (its welcome and my receipts say which) or one already sent
 * on this connection; but a mark sent on a connection that has since gone may have been lost with
 * it, and is sent again, or the server (and my other devices) would count it unread until the
 * next message.
 */
export function markRead(): void {
  const s = current.value;
  if (!s || !visible.value || !atBottom.value || !s.model.ready.value) return;
  const seq = s.model.readUpTo();
  const sent = lastReadSent.get(s.id);
  if (seq <= s.model.myReadSeq() || (sent !== undefined && seq <= sent.seq && sent.welcome === s.welcomes)) {
    inbox.markedRead(s.id, seq);
    return;
  }
  if (s.send({ t: "read", seq })) {
    lastReadSent.set(s.id, { seq, welcome: s.welcomes });
    inbox.markedRead(s.id, seq);
  }
}

effect(() => {
  // Re-run when visibility or the scroll position changes.
  void visible.value;
  void atBottom.value;
  markRead();
});

/** How long the sockets may take to get back before the bar says so (a first retry comes 0.25-0.5 s after a close). */
const RECONNECT_GRACE_MS = 2000;

/** Waiting to try again, trying, or open without a word from the server yet. */
function gettingBack(state: ConnState, answered: boolean): boolean {
  return state === "waiting" || state === "connecting" || (state === "open" && !answered);
}

/** The inbox's socket or the open conversation's has been getting back for a while (the Banner). */
export const reconnectingAWhile = signal(false);
const reconnectingFlag = new DelayedFlag((on) => { reconnectingAWhile.value = on; }, RECONNECT_GRACE_MS);
effect(() => {
  const s = current.value;
  reconnectingFlag.set(gettingBack(inboxState.value, inboxLive.value) || (s !== null && gettingBack(s.state.value, s.live.value)));
});

effect(() => {
  // A join link opened before the list arrived: decide once it is there.
  if (inbox.loaded.value && /^#\/join\//.test(typeof location === "undefined" ? "" : location.hash)) openFromHash();
});

effect(() => {
  const n = inbox.unreadTotal.value;
  if (typeof document !== "undefined") document.title = n > 0 ? `(${n}) ${t("appName")}` : t("appName");
});

/** Files waiting for the network are kept (in IndexedDB) up to this many bytes in all; more is refused. */
export const OFFLINE_FILE_BYTES = 25 << 20;

/** Sends a message, with files if any; false when offline with too much already waiting. */
export async function send(body: string, replyTo?: number, files: readonly File[] = []): Promise<boolean> {
  const s = current.value;
  const queued = files.map((blob) => ({ blob, name: blob.name }));
  if (!s || (body.trim().length === 0 && !queued.length)) return true;
  if (!networkUp.value && queued.length) {
    const waiting = await outbox.list(s.model.me).catch(() => []);
    if (waiting.reduce((n, e) => n + pendingBytes(e.files), pendingBytes(queued)) > OFFLINE_FILE_BYTES) return false;
  }
  await s.post(newClientId(), body, replyTo, queued);
  return true;
}

// ---- notifications ----------------------------------------------------------------------------

export const notificationsAllowed = signal(typeof Notification !== "undefined" && Notification.permission === "granted");

/**
 * A desktop notification: the conversation's title, and in a room who wrote ("Ann: hello"). In a
 * muted conversation only for a message that mentions me.
 */
function notify(conv: string, from: string, text: string, mentioned: boolean): void {
  const summary = inbox.find(conv);
  if (!notificationsAllowed.value || visible.value || (summary?.muted && !mentioned)) return;
  const title = summary ? (summary.kind === "room" ? `# ${summary.title}` : summary.title) : nameOf(from);
  const body = summary?.kind === "room" ? `${nameOf(from)}: ${text}` : text;
  try {
    const n = new Notification(title, { body: body.slice(0, 140), tag: conv });
    n.onclick = () => {
      focus();
      open(conv);
      n.close();
    };
  } catch {
    /* some browsers only allow notifications from a service worker */
  }
}

// ---- actions on the server ----------------------------------------------------------------------

function asSummary(v: unknown): Summary {
  const s = readSummary(v);
  if (!s) throw new ApiFailure(500, "bad_answer", "unexpected answer");
  return s;
}

export async function startDm(username: string): Promise<void> {
  const s = asSummary(await api.startDm(username.trim().toLowerCase()));
  inbox.upsert(s);
  open(s.id);
}

export async function createRoom(title: string, isPrivate: boolean): Promise<void> {
  const s = asSummary(await api.createRoom(title.trim(), isPrivate));
  inbox.upsert(s);
  open(s.id);
}

export async function joinRoom(id: string, token?: string): Promise<void> {
  const s = asSummary(await api.join(id.trim(), token));
  inbox.upsert(s);
  pendingJoin.value = null;
  open(s.id);
}

/** Public rooms whose title contains `q`, newest first. */
export function browseRooms(q: string): Promise<RoomListing[]> {
  return api.publicRooms(q.trim());
}

/** Leaves a room: it goes from the side bar, its socket stops, and messages still queued for it are dropped. */
export async function leaveRoom(id: string): Promise<void> {
  await api.leave(id);
  await forget(id);
}

/** A conversation I am no longer in (left, or deleted by me): off the screen, the list and the outbox. */
export async function forget(id: string): Promise<void> {
  const s = sessions.value.get(id);
  if (currentId.value === id) open(null);
  if (s) {
    s.stop();
    const next = new Map(sessions.value);
    next.delete(id);
    sessions.value = next;
  }
  inbox.remove(id);
  lastReadSent.delete(id);
  const user = me.value?.username;
  if (user) {
    void drop([user, "c", id]).catch(() => {});
    const queued = await outbox.list(user).catch(() => []);
    for (const e of queued) if (e.conv === id) await outbox.remove(e.id).catch(() => {});
  }
}

/** Mutes a conversation on all my devices: it still counts unread, but neither pushes nor notifies. */
export async function mute(id: string, muted: boolean): Promise<void> {
  inbox.upsert(asSummary(await api.mute(id, muted)));
}

export async function invite(username: string): Promise<void> {
  const id = currentId.value;
  if (id) await api.invite(id, username.trim().toLowerCase());
}

export async function search(q: string): Promise<Message[]> {
  const id = currentId.value;
  if (!id) return [];
  return (await api.search(id, q)).map(readMessage).filter((m): m is Message => m !== null);
}

