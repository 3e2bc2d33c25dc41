/**
 * Register the service worker that keeps the app shell offline. Only the capture page registers it:
 * the dashboard stays a plain online page. Failure (old browser, http on a LAN address, which is not
 * a secure context) only loses the offline shell; the outbox in IndexedDB still works.
 */
export function registerCaptureServiceWorker(): void {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker
    .register('/sw.js', { scope: '/' })
    .then(() => navigator.serviceWorker.ready)
    .then((reg) => {
      // The files this page already loaded (entry, lazy capture chunk, styles) came before the worker
      // controlled the page: hand their URLs over so a reload without signal finds them all.
      const urls = performance
        .getEntriesByType('resource')
        .map((e) => e.name)
        .filter((u) => u.startsWith(location.origin + '/assets/'));
      reg.active?.postMessage({ type: 'cache-shell', urls });
    })
    .catch(() => undefined);
}
