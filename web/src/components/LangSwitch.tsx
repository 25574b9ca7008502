import { lang, setLang, t } from "../lib/i18n";

export function LangSwitch() {
  return (
    <label class="lang">
      <span class="sr-only">{t("language")}</span>
      <select value={lang.value} onChange={(e) => setLang(e.currentTarget.value === "zh" ? "zh" : "en")}>
        <option value="en">English</option>
        <option value="zh">中文</option>
      </select>
    </label>
  );
}
