import { fetchArea } from './lib/api.js';
import { isAreaCode, levelOf } from './lib/areaCode.js';
import { childShapes, ownShape } from './lib/geo.js';

/**
 * The entry is deliberately tiny: it starts the first area's data and boundaries at once, then
 * loads React and the app. The map's first paint waits on the data, the boundaries and React; this
 * way the two network loads run while the browser downloads and compiles React instead of after.
 * The promises are cached, so the page's own requests reuse them.
 */
function firstArea(): string | null {
  const m = /^\/(?:wilayah|area)\/([\d.]+)\/?$/.exec(location.pathname);
  if (m) return m[1].replace(/\./g, '');
  if (location.pathname === '/') return '00';
  if (location.pathname === '/embed/map' || location.pathname === '/embed/scoreboard') {
    const q = new URLSearchParams(location.search);
    return (q.get('area') ?? q.get('wilayah') ?? '00').replace(/\./g, '');
  }
  return null;
}

{
  const code = firstArea();
  const practice = new URLSearchParams(location.search).get('latihan') === '1';
  if (code && isAreaCode(code)) {
    void fetchArea(code, { practice }).catch(() => undefined);
    void childShapes(levelOf(code), code);
    if (levelOf(code) === 4) void ownShape(4, code);
  }
}

void import('./root.js').then((m) => m.mount());
