import { t } from "../lib/i18n";
import { settingsOpen } from "../models/account";
import { currentId, me } from "../models/app";
import { AuthScreen } from "./AuthScreen";
import { Banner } from "./Banner";
import { ConversationView } from "./ConversationView";
import { Settings } from "./Settings";
import { Sidebar } from "./Sidebar";

export function App() {
  const user = me.value;
  if (user === undefined) return <div class="splash muted" role="status">{t("loading")}</div>;
  if (user === null) return <AuthScreen />;
  return (
    <div class={`layout${currentId.value || settingsOpen.value ? " in-conv" : ""}`}>
      <Banner />
      <Sidebar />
      {settingsOpen.value ? <Settings /> : <ConversationView />}
    </div>
  );
}
