import { networkUp, reconnectingAWhile } from "../models/app";
import { applyUpdate, waiting } from "../models/pwa";
import { t } from "../lib/i18n";

/**
 * Offline, or the sockets have been getting back for a while (not for a quick reconnect, as after
 * a deploy the server takes at once): say so, and that typed messages will wait. A new version of
 * the app is ready: offer to reload (only when the person chooses to, never mid-typing).
 */
export function Banner() {
  const down = !networkUp.value;
  const reconnecting = !down && reconnectingAWhile.value;
  const update = waiting.value !== null;
  if (!down && !reconnecting && !update) return null;
  return (
    <div class={`banner ${down ? "offline" : reconnecting ? "reconnecting" : "update"}`} role="status" aria-live="polite">
      {down ? t("offline") : reconnecting ? t("reconnecting") : ""}
      {update && <> {t("updateReady")} <button type="button" class="ghost small" onClick={applyUpdate}>{t("reload")}</button></>}
    </div>
  );
}
