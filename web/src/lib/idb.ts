/** The small part of IndexedDB the app uses: one database per purpose, each with one store. */

export type Transact = <T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>) => Promise<T>;

/**
 * Opens the database `name` on first use (`setup` makes its store when it is new). The function
 * returned runs `work` in a transaction and resolves with its request's result once the transaction
 * has committed, not when the request succeeds: a tab closed in between would lose the write.
 */
export function database(name: string, setup: (db: IDBDatabase) => void, factory?: IDBFactory): Transact {
  let db: Promise<IDBDatabase> | undefined;
  return async (mode, work) => {
    db ??= new Promise((resolve, reject) => {
      const req = (factory ?? indexedDB).open(name, 1);
      req.onupgradeneeded = () => setup(req.result);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const d = await db;
    const tx = d.transaction(d.objectStoreNames[0]!, mode, { durability: "strict" });
    return new Promise((resolve, reject) => {
      const req = work(tx.objectStore(d.objectStoreNames[0]!));
      tx.oncomplete = () => resolve(req.result);
      tx.onabort = tx.onerror = () => reject(tx.error);
    });
  };
}
