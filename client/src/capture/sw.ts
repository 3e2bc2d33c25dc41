/**
 * Register the service worker that keeps the app shell offline. Only the capture page registers it:
 * the dashboard stays a plain online page. Failure (old browser, http on a LAN address, which is not
 * a secure context) only loses the offline shell; the outbox in IndexedDB still works.
 */
export function registerCaptureServiceWorker(): void {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
}
