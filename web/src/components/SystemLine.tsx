import type { Role } from "../../../protocol";
import { t, type Key } from "../lib/i18n";
import type { Item } from "../models/conversation";
import { nameOf } from "../models/names";

type Line = Exclude<Item, { kind: "msg" }>;

const ROLE_LINE: Record<Role, Key> = { owner: "lineOwner", admin: "lineAdmin", member: "lineMember" };
/** A role change made by the same person (an owner handing over, or leaving): "ann is now an admin", not "ann made ann…". */
const OWN_ROLE_LINE: Record<Role, Key> = { owner: "lineNowOwner", admin: "lineNowAdmin", member: "lineNowMember" };

/** What a non-message event says, in words: joins and leaves, removals, role and room changes. */
export function lineText(item: Line): string {
  switch (item.kind) {
    case "member":
      // A removal or ban names who did it; someone leaving by themselves has no `by`.
      if (!item.joined && item.by && item.by !== item.username) return t("lineRemoved", { by: nameOf(item.by), name: nameOf(item.username) });
      return t(item.joined ? "joined" : "left", { name: nameOf(item.username) });
    case "role":
      return t((item.by === item.username ? OWN_ROLE_LINE : ROLE_LINE)[item.role], { by: nameOf(item.by), name: nameOf(item.username) });
    case "room": {
      const by = nameOf(item.by);
      if (item.changed === "topic") return item.topic ? t("lineTopic", { by, topic: item.topic }) : t("lineTopicCleared", { by });
      if (item.changed === "private") return t(item.private ? "linePrivate" : "linePublic", { by });
      return t("lineTitle", { by, title: item.title });
    }
  }
}

export function SystemLine({ item }: { item: Line }) {
  return <li class="system" data-seq={item.seq} data-event={item.kind}>{lineText(item)}</li>;
}
