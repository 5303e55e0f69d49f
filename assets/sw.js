// work_dispatch service worker: caches the static shell only.
//
// Cached: the built, content-hashed JS/CSS/fonts under /assets/, the icons and the favicon.
// Never cached: pages (HTML), the websocket (/_event), /ping, /health, the API, uploads: anything
// that carries a user's data is always fetched from the shop's server. Bump SHELL_CACHE when this
// file or an icon changes (hashed /assets/ files never change); activation deletes every other
// wd-shell-* cache.
const SHELL_CACHE = "wd-shell-v1";
const CACHE_PREFIX = "wd-shell-";
const PRECACHE = [
  "/favicon.svg",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/icon-maskable-192.png",
  "/icons/icon-maskable-512.png",
];
const STATIC_EXTENSION = /\.(?:js|mjs|css|woff2?|ttf|otf|png|svg|ico|webp)$/;

function isShell(url) {
  if (url.origin !== self.location.origin) return false;
  if (url.search) return false;
  if (url.pathname.startsWith("/assets/")) return STATIC_EXTENSION.test(url.pathname);
  return url.pathname.startsWith("/icons/") || url.pathname === "/favicon.svg";
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith(CACHE_PREFIX) && name !== SHELL_CACHE)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || request.mode === "navigate") return;
  const url = new URL(request.url);
  if (!isShell(url)) return; // the browser fetches it from the network as usual
  event.respondWith(
    caches.open(SHELL_CACHE).then((cache) =>
      cache.match(request).then((cached) => {
        if (cached) return cached; // hashed names: a cached file never changes
        return fetch(request).then((response) => {
          if (response.ok && response.type === "basic") cache.put(request, response.clone());
          return response;
        });
      }),
    ),
  );
});
