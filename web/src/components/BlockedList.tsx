import { useSignal } from "@preact/signals";
import { t } from "../lib/i18n";
import { refusal } from "../lib/refusal";
import { blocked, setBlocked } from "../models/blocks";
import { nameOf } from "../models/names";
import { Outcome } from "./Outcome";

/** Everyone I block, each with "unblock". */
export function BlockedList() {
  const error = useSignal("");
  const list = [...blocked.value];
  async function unblock(username: string) {
    error.value = "";
    try {
      await setBlocked(username, false);
    } catch (err) {
      error.value = refusal(err);
    }
  }
  return (
    <section aria-labelledby="set-blocked">
      <h3 id="set-blocked">{t("blockedSection")}</h3>
      {list.length === 0 && <p class="muted">{t("noneBlocked")}</p>}
      <ul class="blocked-list">
        {list.map((u) => (
          <li key={u} data-blocked={u}>
            <span class="grow">{nameOf(u)} <span class="muted small">@{u}</span></span>
            <button type="button" class="secondary small" aria-label={t("unblockNamed", { name: nameOf(u) })} onClick={() => void unblock(u)}>{t("unblock")}</button>
          </li>
        ))}
      </ul>
      <Outcome ok="" error={error.value} />
    </section>
  );
}
