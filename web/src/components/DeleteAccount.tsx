import { useSignal } from "@preact/signals";
import { t } from "../lib/i18n";
import { formOf } from "../lib/form";
import { refusal } from "../lib/refusal";
import { eraseAccount } from "../models/account";
import { Outcome } from "./Outcome";

/**
 * Erasing the account: the password, and a box ticked to say the person read what happens to their
 * messages and username (a checkbox rather than a pop-up, so that the consequences stay on screen
 * and are read out with the control).
 */
export function DeleteAccount() {
  const error = useSignal("");
  async function submit(e: SubmitEvent) {
    const f = formOf(e);
    if (!f) return;
    error.value = "";
    try {
      await eraseAccount(f.get("password"));
    } catch (err) {
      error.value = refusal(err);
    }
  }
  return (
    <section aria-labelledby="set-delete" class="danger-zone">
      <h3 id="set-delete">{t("deleteSection")}</h3>
      <p id="delete-explain" class="small">{t("deleteExplain")}</p>
      <form class="stack" onSubmit={submit} aria-describedby="delete-explain">
        <label>
          {t("password")}
          <input name="password" type="password" required maxLength={200} autoComplete="current-password" />
        </label>
        <label class="check">
          <input type="checkbox" name="understood" required />
          {t("deleteUnderstood")}
        </label>
        <button type="submit" class="danger-solid">{t("deleteAccount")}</button>
        <Outcome ok="" error={error.value} />
      </form>
    </section>
  );
}
