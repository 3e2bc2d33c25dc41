/*
 * rekap service worker: keeps the app shell (index.html and the hashed build assets) on the device so
 * the KPPS capture page opens with no signal. It never caches the API, photos or Socket.IO: numbers
 * always come from the server, and uploads wait in the page's IndexedDB outbox instead.
 */
const CACHE = 'rekap-shell-v1';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(['/kpps'])).catch(() => undefined).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('rekap-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('message', (event) => {
  const data = event.data;
  if (!data || data.type !== 'cache-shell' || !Array.isArray(data.urls)) return;
  const urls = data.urls.filter((u) => typeof u === 'string' && new URL(u).origin === self.location.origin && new URL(u).pathname.startsWith('/assets/'));
  event.waitUntil(caches.open(CACHE).then((c) => Promise.all([c.add('/kpps'), ...urls.map((u) => c.add(u))])).catch(() => undefined));
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/socket.io/')) return;
  if (req.mode === 'navigate') {
    // Network first: a new deploy is picked up at once; the cached shell only when offline.
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            caches.open(CACHE).then((c) => c.put('/kpps', copy));
          }
          return res;
        })
        .catch(() => caches.match('/kpps').then((hit) => hit || caches.match(req)).then((hit) => hit || new Response('offline', { status: 503 }))),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/') || url.pathname.startsWith('/geo/')) {
    // Hashed, immutable build files: cache first.
    event.respondWith(
      caches.match(req).then(
        (hit) =>
          hit ||
          fetch(req).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              caches.open(CACHE).then((c) => c.put(req, copy));
            }
            return res;
          }),
      ),
    );
  }
});
