import { useSignal } from "@preact/signals";
import { useLayoutEffect, useRef } from "preact/hooks";
import { t } from "../lib/i18n";
import { refusal } from "../lib/refusal";
import { createRoom, joinRoom, me, startDm } from "../models/app";
import { BrowseRooms } from "./BrowseRooms";

type Mode = "dm" | "room" | "join" | "browse";

/** Start a DM by username, create a room, join one by its id, or find a public one. */
export function NewConversation() {
  const mode = useSignal<Mode | null>(null);
  const error = useSignal("");
  const input = useRef<HTMLInputElement>(null);
  const tabs = useRef<HTMLDivElement>(null);
  // The person just asked for this form: take them to its field.
  useLayoutEffect(() => { if (mode.value && mode.value !== "browse") input.current?.focus(); }, [mode.value]);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const form = e.currentTarget;
    if (!(form instanceof HTMLFormElement)) return;
    const data = new FormData(form);
    const value = String(data.get("value") ?? "");
    error.value = "";
    if (mode.value === "dm" && value.trim().toLowerCase() === me.value?.username) {
      error.value = t("errorDmSelf");
      return;
    }
    try {
      if (mode.value === "dm") await startDm(value);
      else if (mode.value === "room") await createRoom(value, data.get("private") === "on");
      else await joinRoom(value);
      mode.value = null;
    } catch (err) {
      // The server's own message is English: say it in the app's language instead (`blocked`,
      // `banned` and `full` by their code, the rest by status).
      error.value = refusal(err, { 403: "errorForbidden" });
    }
  }

  /** Escape: close the form and put the focus back on the button that opened it, not on the page. */
  function dismiss() {
    const m = mode.value;
    mode.value = null;
    tabs.current?.querySelector<HTMLButtonElement>(`[data-mode="${m}"]`)?.focus();
  }

  const tab = (m: Mode, label: string) => (
    <button type="button" class={`ghost small${mode.value === m ? " pressed" : ""}`} aria-pressed={mode.value === m} data-mode={m} onClick={() => { mode.value = mode.value === m ? null : m; error.value = ""; }}>
      {label}
    </button>
  );

  return (
    <div class="new-conv">
      <div class="row" ref={tabs}>
        {tab("dm", t("newDm"))}
        {tab("room", t("newRoom"))}
        {tab("join", t("joinRoom"))}
        {tab("browse", t("browseRooms"))}
      </div>
      {mode.value === "browse" && <BrowseRooms onDone={() => { mode.value = null; }} onClose={dismiss} />}
      {mode.value && mode.value !== "browse" && (
        <form class="new-form" onSubmit={submit}>
          <label>
            <span class="sr-only">{mode.value === "dm" ? t("dmUsername") : mode.value === "room" ? t("roomTitle") : t("roomId")}</span>
            <input
              name="value"
              ref={input}
              required
              maxLength={mode.value === "room" ? 100 : 64}
              placeholder={mode.value === "dm" ? t("dmUsername") : mode.value === "room" ? t("roomTitle") : t("roomId")}
              onKeyDown={(e) => { if (e.key === "Escape") dismiss(); }}
            />
          </label>
          {mode.value === "room" && (
            <label class="check">
              <input type="checkbox" name="private" /> {t("private")}
            </label>
          )}
          <button type="submit">{mode.value === "dm" ? t("startDm") : mode.value === "room" ? t("create") : t("join")}</button>
          {error.value && <p class="error small" role="alert">{error.value}</p>}
        </form>
      )}
    </div>
  );
}
