import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { RoomListing } from "../lib/api";
import { short } from "../lib/format";
import { t } from "../lib/i18n";
import { refusal } from "../lib/refusal";
import { browseRooms, inbox, joinRoom, open } from "../models/app";

/** How long typing must pause before the list is asked for again: one request per pause, not per key. */
const TYPING_PAUSE_MS = 250;

/** The directory of public rooms, newest first, filtered by title as the person types; Join opens the room. */
export function BrowseRooms({ onDone, onClose }: { onDone: () => void; onClose: () => void }) {
  const rooms = useSignal<RoomListing[] | null>(null);
  const error = useSignal("");
  const input = useRef<HTMLInputElement>(null);
  const asked = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  async function load(q: string) {
    if (timer.current) clearTimeout(timer.current);
    // Answers may come back out of order: only the latest question's answer is shown.
    const n = ++asked.current;
    try {
      const list = await browseRooms(q);
      if (n !== asked.current) return;
      rooms.value = list;
      error.value = "";
    } catch (err) {
      if (n === asked.current) error.value = failure(err);
    }
  }

  useEffect(() => {
    input.current?.focus();
    void load("");
    return () => { if (timer.current) clearTimeout(timer.current); };
  }, []);

  async function join(room: RoomListing) {
    error.value = "";
    try {
      if (inbox.find(room.id)) open(room.id);
      else await joinRoom(room.id);
      onDone();
    } catch (err) {
      error.value = failure(err);
    }
  }

  return (
    <div class="browse">
      <form
        class="new-form"
        onSubmit={(e) => { e.preventDefault(); void load(input.current?.value ?? ""); }}
      >
        <label>
          <span class="sr-only">{t("searchRooms")}</span>
          <input
            ref={input}
            name="q"
            type="search"
            maxLength={100}
            placeholder={t("searchRooms")}
            onInput={(e) => {
              const q = e.currentTarget.value;
              if (timer.current) clearTimeout(timer.current);
              timer.current = setTimeout(() => void load(q), TYPING_PAUSE_MS);
            }}
            onKeyDown={(e) => { if (e.key === "Escape") onClose(); }}
          />
        </label>
      </form>
      {error.value && <p class="error small" role="alert">{error.value}</p>}
      {rooms.value && (
        <ul class="rooms" aria-label={t("browseRooms")}>
          {rooms.value.length === 0 && <li class="muted small">{t("noRooms")}</li>}
          {rooms.value.map((r) => {
            const member = inbox.find(r.id) !== undefined;
            return (
              <li key={r.id} data-room={r.id}>
                <span class="grow">
                  <span class="room-title strong"># {r.title}</span>
                  <span class="muted small">{t("roomCreatedOn", { date: short(r.created) })}</span>
                </span>
                <button
                  type="button"
                  class={member ? "secondary small" : "small"}
                  aria-label={t(member ? "openNamed" : "joinNamed", { title: r.title })}
                  onClick={() => void join(r)}
                >
                  {member ? t("openRoom") : t("join")}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

function failure(err: unknown): string {
  return refusal(err, { 403: "errorForbidden" });
}
