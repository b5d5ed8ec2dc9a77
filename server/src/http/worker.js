// The chat's service worker; `VERSION` and `FILES` are written above by the server.
const FILES_CACHE = `files-${VERSION}`;
const PAGES_CACHE = 'pages';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(FILES_CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('files-') && k !== FILES_CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === 'POST' && url.pathname === '/api/logout') {
    // Signed out: the pages kept for this person go.
    event.respondWith(fetch(request).then((response) => caches.delete(PAGES_CACHE).then(() => response)));
    return;
  }
  if (request.method !== 'GET') return;
  if (FILES.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((kept) => kept || fetch(request)));
    return;
  }
  if (request.mode === 'navigate') {
    // The network first; offline, the copy of this page kept last time, else of the directory.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok && response.type === 'basic') {
            const copy = response.clone();
            caches.open(PAGES_CACHE).then((cache) => cache.put(request, copy));
          }
          return response;
        })
        .catch(() => caches.open(PAGES_CACHE).then((cache) =>
          cache.match(request, { ignoreSearch: false }).then((kept) => kept || cache.match('/')).then((kept) =>
            kept || new Response('<!DOCTYPE html><title>Offline</title><p>You are offline, and this page was not opened here before.</p>',
              { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } }))),
        ),
    );
  }
});
