// The collector app's service worker (served from /app/sw.js, scope /app/). It keeps the app's files
// and its page so that the app opens and works with no connection. The data (today's stops, the
// queue) is the app's, in IndexedDB; API calls are never cached here.
// The version and the list of files below are written in by the server (fieldcollect/visits/app_views.py).
const VERSION = __VERSION__;
const FILES = __FILES__;
const CACHE = `fc-app-${VERSION}`;
const PAGE_CACHE = "fc-app-page"; // the page holds the collector's name: wiped at logout
const SCOPE = new URL("./", self.location).pathname;
const MANIFEST = `${SCOPE}manifest.webmanifest`;

async function keepPage() {
  const response = await fetch(SCOPE, { credentials: "same-origin", cache: "no-store" });
  if (response.ok && !response.redirected) await (await caches.open(PAGE_CACHE)).put(SCOPE, response.clone());
  return response;
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    await (await caches.open(CACHE)).addAll([...FILES, MANIFEST]);
    await keepPage().catch(() => null);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("fc-app-") && key !== CACHE && key !== PAGE_CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

// Logged out elsewhere (the page now sends to the log-in page): the day's stops and the kept page go.
// Actions not yet sent stay (they are the app's queue, sent at the next log-in).
async function forgetTheDay() {
  await new Promise((resolve) => {
    const open = indexedDB.open("fieldcollect-app");
    open.onerror = () => resolve();
    open.onupgradeneeded = () => { open.transaction.abort(); resolve(); };  // no app data here yet
    open.onsuccess = () => {
      const db = open.result;
      try {
        const tx = db.transaction("kv", "readwrite");
        tx.objectStore("kv").delete("today");
        tx.oncomplete = tx.onerror = () => { db.close(); resolve(); };
      } catch (e) { db.close(); resolve(); }
    };
  });
  await caches.delete(PAGE_CACHE);
}

async function page(request) {
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) await (await caches.open(PAGE_CACHE)).put(SCOPE, response.clone());
    // (a navigation does not follow redirects here: the log-in page comes back as an opaque redirect)
    else if (response.redirected || response.type === "opaqueredirect") await forgetTheDay();
    return response;
  } catch (error) {
    const kept = await caches.match(SCOPE, { cacheName: PAGE_CACHE });
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate" && url.pathname === SCOPE) {
    event.respondWith(page(request));
  } else if (FILES.includes(url.pathname) || url.pathname === MANIFEST) {
    event.respondWith(caches.match(request, { cacheName: CACHE, ignoreSearch: true }).then((hit) => hit || fetch(request)));
  }
});
