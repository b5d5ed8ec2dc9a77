// The chat's service worker; `VERSION`, `FILES` and `ON_DEMAND` are written above by the server.
const FILES_CACHE = `files-${VERSION}`;
const PAGES_CACHE = 'pages';
// The pages kept for offline use: the directory (what an unkept page falls back to) and the
// most recently opened others (a put moves a page to the end).
const PAGES_KEPT = 50;
const DIRECTORY = new URL('/', self.location.origin).href;

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
    // Signed out: the pages kept for this person go, and so do their pushes to this browser.
    event.respondWith(fetch(request).then((response) =>
      Promise.all([caches.delete(PAGES_CACHE), unsubscribe()]).then(() => response)));
    return;
  }
  if (request.method !== 'GET') return;
  if (FILES.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((kept) => kept || fetch(request)));
    return;
  }
  if (ON_DEMAND.includes(url.pathname)) {
    // A page loaded on demand: kept in this build's cache the first time it is fetched.
    event.respondWith(caches.match(request).then((kept) => kept || fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(FILES_CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    })));
    return;
  }
  if (request.mode === 'navigate') {
    // The network first; offline, the copy of this page kept last time, else of the directory.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok && response.type === 'basic') {
            const copy = response.clone();
            caches.open(PAGES_CACHE).then((cache) => cache.put(request, copy)
              .then(() => cache.keys())
              .then((keys) => keys.filter((k) => k.url !== DIRECTORY))
              .then((keys) => Promise.all(keys.slice(0, Math.max(0, keys.length - PAGES_KEPT)).map((k) => cache.delete(k)))));
          }
          return response;
        })
        .catch(() => caches.open(PAGES_CACHE).then((cache) =>
          cache.match(request, { ignoreSearch: false }).then((kept) => kept || cache.match(DIRECTORY)).then((kept) =>
            kept || new Response('<!DOCTYPE html><title>Offline</title><p>You are offline, and this page was not opened here before.</p>',
              { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } }))),
        ),
    );
  }
});

function unsubscribe() {
  return self.registration.pushManager.getSubscription()
    .then((subscription) => subscription && subscription.unsubscribe())
    .catch(() => {});
}

// A push (a private message or a mention, sent while no tab was open): its payload is a
// `Notice` in JSON. One notification per room (`tag`): a newer one replaces the older.
self.addEventListener('push', (event) => {
  let notice = {};
  try {
    notice = event.data ? event.data.json() : {};
  } catch (_) {
    // Not ours to read: still say something came.
  }
  event.waitUntil(self.registration.showNotification(notice.title || 'Chat', {
    body: notice.body || 'You have a new message.',
    tag: notice.tag || undefined,
    icon: '/favicon.svg',
    data: { url: notice.url || '/' },
  }));
});

// A click opens the room at the message: in a tab of the chat if one is open, else a new one.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  let target = new URL((event.notification.data && event.notification.data.url) || '/', self.location.origin);
  if (target.origin !== self.location.origin) target = new URL('/', self.location.origin);
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((tabs) => {
    const tab = tabs.find((t) => new URL(t.url).origin === self.location.origin);
    if (!tab) return self.clients.openWindow(target.href);
    return tab.focus().then(() => tab.navigate(target.href)).catch(() => self.clients.openWindow(target.href));
  }));
});

// The push service renewed the subscription: hand the new one to the server.
self.addEventListener('pushsubscriptionchange', (event) => {
  const options = event.oldSubscription && event.oldSubscription.options;
  if (!options) return;
  event.waitUntil(self.registration.pushManager.subscribe(options).then((subscription) =>
    fetch('/api/push_subscribe', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ subscription: JSON.stringify(subscription) }),
    })).catch(() => {}));
});
