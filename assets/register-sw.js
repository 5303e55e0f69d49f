// Registers the static-shell service worker (sw.js). Browsers allow service workers only in a
// secure context (https, or http://localhost / 127.0.0.1); elsewhere the app simply runs without.
if ("serviceWorker" in navigator && window.isSecureContext) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => {
      console.warn("work_dispatch: service worker not registered", error);
    });
  });
}
