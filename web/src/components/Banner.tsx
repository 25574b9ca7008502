import { current, inboxState, networkUp } from "../models/app";
import { t } from "../lib/i18n";

/** Offline, or a socket is reconnecting: say so, and that typed messages will wait. */
export function Banner() {
  const conv = current.value?.state.value;
  const down = !networkUp.value;
  const reconnecting = !down && (conv === "waiting" || inboxState.value === "waiting");
  if (!down && !reconnecting) return null;
  return (
    <div class={`banner ${down ? "offline" : "reconnecting"}`} role="status" aria-live="polite">
      {down ? t("offline") : t("reconnecting")}
    </div>
  );
}
