/**
 * Columns added to a table after objects first created it. `CREATE TABLE IF NOT EXISTS` does not
 * change a table that exists, so an object created before a column was added gets it here, when
 * it wakes with the new code.
 */
export interface AddedColumn {
  table: string;
  column: string;
  /** Type and default, as in `ALTER TABLE ... ADD COLUMN name <definition>`. */
  definition: string;
}

export function addMissingColumns(sql: SqlStorage, columns: readonly AddedColumn[]): void {
  for (const { table, column, definition } of columns) {
    const has = sql.exec<{ n: number }>("SELECT count(*) AS n FROM pragma_table_info(?) WHERE name = ?", table, column).one().n > 0;
    if (!has) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}
