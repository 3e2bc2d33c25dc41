import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import type { Sql } from '../../../db/client.js';
import { hitRateLimits, sweepRateLimits } from '../../../db/repositories/ratelimits.js';
import { bearerToken } from '../../auth/index.js';
import { HttpError } from '../errors.js';

/**
 * Fixed-window rate limits stored in PostgreSQL (table rate_limits), so every API node counts against
 * the same budget. One upsert per bucket per request: `count + 1 returning count`. Keys:
 *   ip:<address>          every request from an address (all phones behind one NAT share it: generous)
 *   tok:<sha256 prefix>   every request carrying a bearer token (per device / session)
 *   hs:<address>          Socket.IO handshakes per address (reconnect storms, socket floods)
 * Over the limit → 429 with Retry-After (seconds to the end of the window). When the database is
 * unreachable the limiter lets requests through: the routes behind it fail on their own, and a
 * broken limiter must not turn a database blip into a total outage.
 */
export interface RateLimitOptions {
  windowSeconds: number;
  perIp: number;
  perToken: number;
  handshakesPerIp: number;
  /**
   * Requests from this machine without X-Forwarded-For (CLI, health checks, local benchmarks with
   * thousands of sockets) skip the per-IP buckets; behind a local reverse proxy the forwarded address
   * is what counts. Tokens are always counted.
   */
  exemptLoopback: boolean;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** The client address: the forwarded one when the direct peer is a local proxy (same rule as express 'trust proxy' loopback). */
export function clientAddress(req: IncomingMessage): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  const fwd = req.headers['x-forwarded-for'];
  if (LOOPBACK.test(peer) && typeof fwd === 'string' && fwd.trim()) {
    const hops = fwd.split(',').map((h) => h.trim()).filter(Boolean);
    return hops[hops.length - 1] ?? peer;
  }
  return peer;
}

export const DEFAULT_RATE_LIMITS: RateLimitOptions = { windowSeconds: 60, perIp: 1200, perToken: 600, handshakesPerIp: 120, exemptLoopback: true };

export interface Verdict { allowed: boolean; limit: number; remaining: number; retryAfterSeconds: number }

export class RateLimiter {
  private lastSweep = 0;
  private lastFailureLog = 0;
  constructor(private readonly sql: Sql, readonly opts: RateLimitOptions, private readonly log: (msg: string, err?: unknown) => void) {}

  /** Count one hit on each bucket; the verdict of the most constrained one. */
  async hit(all: { key: string; limit: number }[]): Promise<Verdict> {
    const buckets = all.filter((b) => Number.isFinite(b.limit));
    const w = this.opts.windowSeconds;
    const nowMs = Date.now();
    const windowStartMs = Math.floor(nowMs / 1000 / w) * w * 1000;
    const retryAfterSeconds = Math.max(1, Math.ceil((windowStartMs + w * 1000 - nowMs) / 1000));
    let worst: Verdict = { allowed: true, limit: Infinity, remaining: Infinity, retryAfterSeconds };
    if (buckets.length === 0) return worst;
    try {
      const counts = await hitRateLimits(this.sql, buckets.map((b) => b.key), new Date(windowStartMs));
      for (const b of buckets) {
        const count = counts.get(b.key) ?? 0;
        const remaining = Math.max(0, b.limit - count);
        const v: Verdict = { allowed: count <= b.limit, limit: b.limit, remaining, retryAfterSeconds };
        if (!v.allowed && worst.allowed) worst = v;
        else if (v.allowed === worst.allowed && remaining < worst.remaining) worst = v;
      }
    } catch (err) {
      // One line per window, not one per request: a database outage must not flood the log.
      if (nowMs - this.lastFailureLog > w * 1000) {
        this.lastFailureLog = nowMs;
        this.log('rate limiter: database unavailable, letting requests through', err);
      }
      return { allowed: true, limit: Infinity, remaining: Infinity, retryAfterSeconds };
    }
    if (nowMs - this.lastSweep > w * 1000) {
      this.lastSweep = nowMs;
      // Old windows are useless; one node deleting them now and then keeps the table small.
      sweepRateLimits(this.sql, new Date(windowStartMs - w * 1000)).catch(() => {});
    }
    return worst;
  }

  bucketsFor(ip: string, token: string | null): { key: string; limit: number }[] {
    const b = this.opts.exemptLoopback && LOOPBACK.test(ip) ? [] : [{ key: `ip:${ip}`, limit: this.opts.perIp }];
    if (token) b.push({ key: `tok:${createHash('sha256').update(token).digest('hex').slice(0, 32)}`, limit: this.opts.perToken });
    return b;
  }

  /** Express middleware for /api. */
  middleware(opts: { exempt?: RegExp } = {}): RequestHandler {
    return async (req, res, next) => {
      if (opts.exempt?.test(req.path)) return next();
      const v = await this.hit(this.bucketsFor(clientAddress(req), bearerToken(req.headers.authorization)));
      if (Number.isFinite(v.limit)) {
        res.setHeader('X-RateLimit-Limit', String(v.limit));
        res.setHeader('X-RateLimit-Remaining', String(v.remaining));
      }
      if (!v.allowed) {
        res.setHeader('Retry-After', String(v.retryAfterSeconds));
        // Drain an upload body so the client gets the answer instead of a reset connection.
        req.resume();
        return next(new HttpError(429, 'rate_limited', `too many requests; retry after ${v.retryAfterSeconds} s`, { limit: v.limit, retryAfterSeconds: v.retryAfterSeconds }));
      }
      next();
    };
  }

  /**
   * Socket.IO `allowRequest` hook: counts the handshake against the address's handshake budget.
   * Socket.IO answers a refused handshake with HTTP 403 and the message below.
   */
  allowHandshake(): (req: IncomingMessage, cb: (err: string | null | undefined, ok: boolean) => void) => void {
    return (req, cb) => {
      const ip = clientAddress(req);
      if (this.opts.exemptLoopback && LOOPBACK.test(ip)) return cb(null, true);
      this.hit([{ key: `hs:${ip}`, limit: this.opts.handshakesPerIp }]).then(
        (v) => cb(v.allowed ? null : `rate_limited: retry after ${v.retryAfterSeconds} s`, v.allowed),
        () => cb(null, true),
      );
    };
  }
}

/** The limiter configured by REKAP_RATE_* (0 = that bucket unlimited). */
export function rateLimiterFor(config: { REKAP_RATE_WINDOW_SECONDS: number; REKAP_RATE_PER_IP: number; REKAP_RATE_PER_TOKEN: number; REKAP_RATE_HANDSHAKES_PER_IP: number; REKAP_RATE_EXEMPT_LOOPBACK: boolean }, sql: Sql, log: (msg: string, err?: unknown) => void): RateLimiter {
  const orInf = (n: number) => (n > 0 ? n : Number.POSITIVE_INFINITY);
  return new RateLimiter(sql, { windowSeconds: config.REKAP_RATE_WINDOW_SECONDS, perIp: orInf(config.REKAP_RATE_PER_IP), perToken: orInf(config.REKAP_RATE_PER_TOKEN), handshakesPerIp: orInf(config.REKAP_RATE_HANDSHAKES_PER_IP), exemptLoopback: config.REKAP_RATE_EXEMPT_LOOPBACK }, log);
}
