/**
 * Every table of a user's object, and the columns added to them since they were first made, once
 * per revision of this install (schema-revision.ts). Run by the constructor, and again before the
 * first write after the object erased itself (a made-up username leaves no storage: account.ts),
 * so that both paths make the same tables.
 */
import { addMissingColumns } from "../schema-columns";
import { installOnce, schemaFingerprint } from "../schema-revision";
import { FILE_QUOTA_SCHEMA } from "./file-quota";
import { PUSH_SENDER_SCHEMA } from "./push-sender";
import { PUSH_SUBSCRIPTION_SCHEMA } from "./push-subscriptions";
import { PRESENCE_COLUMNS, PRESENCE_SCHEMA, USER_COLUMNS, USER_SCHEMA } from "./schema";

export function installUserSchema(sql: SqlStorage): void {
  installOnce(sql, REVISION, installEverything);
}

function installEverything(sql: SqlStorage): void {
  for (const statement of [...USER_SCHEMA, ...PRESENCE_SCHEMA, ...FILE_QUOTA_SCHEMA, ...PUSH_SUBSCRIPTION_SCHEMA, ...PUSH_SENDER_SCHEMA]) {
    sql.exec(statement);
  }
  addMissingColumns(sql, USER_COLUMNS);
  addMissingColumns(sql, PRESENCE_COLUMNS);
}

/** What the install runs: any change to it installs again at the next wake. */
const REVISION = schemaFingerprint([
  ...USER_SCHEMA, ...PRESENCE_SCHEMA, ...FILE_QUOTA_SCHEMA, ...PUSH_SUBSCRIPTION_SCHEMA, ...PUSH_SENDER_SCHEMA,
  JSON.stringify([USER_COLUMNS, PRESENCE_COLUMNS]),
  installEverything,
  addMissingColumns,
]);
