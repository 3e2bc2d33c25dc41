import { openDB, type IDBPDatabase } from 'idb';
import type { SubmissionAccepted } from '../../../server/contract/index.js';
import { apiFetch, ApiError } from '../lib/api.js';

/**
 * The device's outbox: photos and confirmations wait in IndexedDB until the network lets them
 * through, survive a reload or a closed tab, and are sent strictly in the order they were made (a
 * confirmation never overtakes the photo it confirms). A retry never creates a duplicate: the upload
 * API is idempotent by the photo's SHA-256 (same bytes → the same submission, answered 200) and a
 * KPPS confirmation of the same values is "unchanged" on the server.
 */

export type ItemState = 'queued' | 'sending' | 'done' | 'failed';

interface BaseItem {
  id?: number;
  createdAt: string;
  state: ItemState;
  attempts: number;
  lastError: string | null;
  nextTryAt: number;
  tps: string;
  contest: string;
  doneAt?: string;
}

export interface PhotoItem extends BaseItem {
  kind: 'photo';
  page: string | null;
  bytes: ArrayBuffer;
  mime: string;
  name: string;
  submissionId?: number;
  duplicate?: boolean;
}

export interface ConfirmItem extends BaseItem {
  kind: 'confirm';
  /** The full set of values the officer saw (and possibly corrected); null = confirm as read. */
  values: Record<string, number> | null;
  corrected: string[];
  resultVersion?: number;
  outcome?: string;
}

export type QueueItem = PhotoItem | ConfirmItem;
export type NewItem = Omit<PhotoItem, 'id' | 'createdAt' | 'state' | 'attempts' | 'lastError' | 'nextTryAt'> | Omit<ConfirmItem, 'id' | 'createdAt' | 'state' | 'attempts' | 'lastError' | 'nextTryAt'>;

const DB_NAME = 'rekap-capture';
const STORE = 'outbox';
const MAX_BACKOFF_MS = 30_000;

let dbPromise: Promise<IDBPDatabase> | null = null;
function db(): Promise<IDBPDatabase> {
  dbPromise ??= openDB(DB_NAME, 1, {
    upgrade(d) {
      d.createObjectStore(STORE, { keyPath: 'id', autoIncrement: true });
    },
  });
  return dbPromise;
}

/** Network trouble (retry later) versus a refusal the officer must see (do not retry the same thing). */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof ApiError)) return true;
  return err.status === 0 || err.status >= 500 || err.status === 408 || err.status === 429;
}

async function send(item: QueueItem): Promise<Partial<QueueItem>> {
  if (item.kind === 'photo') {
    const form = new FormData();
    form.set('tps', item.tps);
    form.set('contest', item.contest);
    if (item.page) form.set('page', item.page);
    form.set('photo', new Blob([item.bytes], { type: item.mime }), item.name);
    const res = await apiFetch<SubmissionAccepted>('/api/submissions', { method: 'POST', body: form });
    return { submissionId: res.id, duplicate: res.duplicate };
  }
  const res = await apiFetch<{ outcome: string; result: { version: number } | null }>(
    `/api/tps/${encodeURIComponent(item.tps)}/${encodeURIComponent(item.contest)}/confirm`,
    { method: 'POST', body: JSON.stringify(item.values ? { values: item.values } : {}) },
  );
  return { outcome: res.outcome, resultVersion: res.result?.version };
}

type Listener = (items: QueueItem[]) => void;

class Outbox {
  private listeners = new Set<Listener>();
  private running = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  private sentListeners = new Set<(item: QueueItem) => void>();

  start() {
    if (this.started || typeof window === 'undefined') return;
    this.started = true;
    // Back online: whatever waited for a backoff goes now, not after the remaining delay.
    window.addEventListener('online', () => void this.wakeUp());
    void this.flush();
  }

  async wakeUp() {
    const d = await db();
    for (const it of await this.list()) if (it.state === 'queued' && it.nextTryAt > Date.now()) await d.put(STORE, { ...it, nextTryAt: 0 });
    await this.flush();
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    void this.list().then(l);
    return () => this.listeners.delete(l);
  }

  /** Called once per item that reached the server (the page then shows its read-back). */
  onSent(l: (item: QueueItem) => void): () => void {
    this.sentListeners.add(l);
    return () => this.sentListeners.delete(l);
  }

  async list(): Promise<QueueItem[]> {
    return ((await (await db()).getAll(STORE)) as QueueItem[]).sort((a, b) => a.id! - b.id!);
  }

  private async notify() {
    const items = await this.list();
    for (const l of this.listeners) l(items);
  }

  async add(item: NewItem): Promise<number> {
    const full = { ...item, createdAt: new Date().toISOString(), state: 'queued', attempts: 0, lastError: null, nextTryAt: 0 } as QueueItem;
    const id = (await (await db()).add(STORE, full)) as number;
    await this.notify();
    void this.flush();
    return id;
  }

  /** Put a refused item back in line (after the officer fixed what was wrong, e.g. signed in again). */
  async retry(id: number) {
    const d = await db();
    const item = (await d.get(STORE, id)) as QueueItem | undefined;
    if (!item) return;
    await d.put(STORE, { ...item, state: 'queued', nextTryAt: 0, lastError: null });
    await this.notify();
    void this.flush();
  }

  /** Forget finished items (the server keeps them; the device does not need to). */
  async clearDone() {
    const d = await db();
    for (const it of await this.list()) if (it.state === 'done') await d.delete(STORE, it.id!);
    await this.notify();
  }

  private schedule(ms: number) {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, Math.max(200, ms));
  }

  /** Send what waits, oldest first; stop at the first network failure so the order is kept. */
  async flush(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const items = await this.list();
        const next = items.find((i) => i.state === 'queued' || i.state === 'sending');
        if (!next) return;
        const wait = next.nextTryAt - Date.now();
        if (wait > 0) {
          this.schedule(wait);
          return;
        }
        const d = await db();
        await d.put(STORE, { ...next, state: 'sending' });
        await this.notify();
        try {
          const extra = await send(next);
          const done = { ...next, ...extra, state: 'done', lastError: null, doneAt: new Date().toISOString(), attempts: next.attempts + 1 } as QueueItem;
          await d.put(STORE, done);
          await this.notify();
          for (const l of this.sentListeners) l(done);
        } catch (err) {
          const attempts = next.attempts + 1;
          const message = err instanceof Error ? err.message : String(err);
          if (isTransient(err)) {
            const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempts - 1, 5));
            await d.put(STORE, { ...next, state: 'queued', attempts, lastError: message, nextTryAt: Date.now() + backoff });
            await this.notify();
            this.schedule(backoff);
            return;
          }
          await d.put(STORE, { ...next, state: 'failed', attempts, lastError: message, errorCode: err instanceof ApiError ? err.code : undefined });
          await this.notify();
        }
      }
    } finally {
      this.running = false;
    }
  }
}

export const outbox = new Outbox();
