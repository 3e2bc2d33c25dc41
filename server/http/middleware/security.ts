import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * Security headers for every response (helmet) with a Content-Security-Policy the built dashboard
 * satisfies: scripts and styles only from this origin (Vite emits files, no inline script), images
 * also from data:/blob: (Leaflet icons, the capture preview), the optional tile server, and sockets
 * to this origin. Pages are not frameable, except the embeds (/embed/*), which exist to be framed
 * by news sites.
 */
export interface SecurityHeaderOptions {
  /** REKAP_TILE_URL: its origin is allowed for images. */
  tileUrl?: string | null;
}

export const EMBED_PATH = /^\/embed(\/|$)/;

function tileOrigin(url: string | null | undefined): string[] {
  if (!url) return [];
  try {
    // Template URLs like https://{s}.tile.example.org/{z}/{x}/{y}.png: allow any subdomain of the host.
    const u = new URL(url.replace(/\{s\}\./, 'subdomain-placeholder.').replace(/[{}]/g, ''));
    const host = u.host.startsWith('subdomain-placeholder.') ? `*.${u.host.slice('subdomain-placeholder.'.length)}` : u.host;
    return [`${u.protocol}//${host}`];
  } catch {
    return [];
  }
}

export function cspDirectives(opts: SecurityHeaderOptions, embed: boolean): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:', 'blob:', ...tileOrigin(opts.tileUrl)],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'", 'ws:', 'wss:'],
    'media-src': ["'self'", 'blob:'],
    'worker-src': ["'self'", 'blob:'],
    'manifest-src': ["'self'"],
    'object-src': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': embed ? ['*'] : ["'none'"],
  };
}

export function securityHeaders(opts: SecurityHeaderOptions = {}): RequestHandler {
  const make = (embed: boolean) =>
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(opts, embed) },
      // Embeds are framed cross-site; everything else refuses framing (clickjacking on the review screens).
      frameguard: embed ? false : { action: 'deny' },
      // Feeds and embeds are read from other origins; the policy stays same-origin for the app itself.
      crossOriginResourcePolicy: { policy: embed ? 'cross-origin' : 'same-origin' },
      crossOriginEmbedderPolicy: false,
      // HSTS only matters behind TLS; sending it on plain http is harmless and correct when proxied.
      strictTransportSecurity: { maxAge: 15552000, includeSubDomains: false },
      referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    });
  const page = make(false);
  const embed = make(true);
  return (req, res, next) => (EMBED_PATH.test(req.path) ? embed : page)(req, res, next);
}

/**
 * CORS for the public read feeds only (what embeds and third-party sites fetch): GET/HEAD from any
 * origin, no credentials. Every other route sends no CORS header, so a browser on another origin
 * cannot read it, and a cross-origin preflight for a write is refused.
 */
export const PUBLIC_FEED_PATH = /^\/api\/(results\/|changes(\/|$)|hhcw\/|audit\/head$|areas(\/|$)|health$)/;

export function corsForFeeds(): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (!origin || !PUBLIC_FEED_PATH.test(req.path)) {
      if (origin && req.method === 'OPTIONS') {
        res.status(403).json({ error: { code: 'cors_not_allowed', message: `cross-origin requests are only allowed on the public feeds, not ${req.path}` } });
        return;
      }
      return next();
    }
    // Writes never get CORS headers, whatever the path.
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Expose-Headers', 'ETag, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD');
      res.setHeader('Access-Control-Allow-Headers', 'If-None-Match, Content-Type');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
