import type { ErrorRequestHandler } from 'express';
import { HttpError } from '../errors.js';

/**
 * While PostgreSQL is down or restarting, requests fail with connection errors. Those are not bugs of
 * the request: answer 503 with JSON and Retry-After so clients (phones' outboxes, the dashboard) retry,
 * instead of a 500 that reads like a crash.
 */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now, connection_exception family.
  '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004',
]);

export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
    if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x))) return true;
    // postgres.js crashes with a TypeError when the socket is gone under a query (see db/client.ts).
    if (e instanceof TypeError && /reading 'write'|null \(reading/.test(e.message)) return true;
  }
  return false;
}

export function databaseUnavailable(log: (msg: string, err?: unknown) => void): ErrorRequestHandler {
  let lastLog = 0;
  return (err, _req, _res, next) => {
    if (err instanceof HttpError || !isDatabaseUnavailable(err)) return next(err);
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      log('database unavailable: answering 503 until it is back', err);
    }
    const e = new HttpError(503, 'database_unavailable', 'basis data sedang tidak tersedia; coba lagi sebentar / the database is unavailable; retry shortly', { retryAfterSeconds: 5 });
    _res.set('Retry-After', '5');
    next(e);
  };
}
