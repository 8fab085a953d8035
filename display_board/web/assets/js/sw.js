// The ticket page's service worker (served as /sw.js, registered with the ticket page itself as
// its scope). It shows each Web Push notice the server sends ({"title", "body"}, encrypted for
// this browser) and, on a tap, brings the ticket page forward or opens it again.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { title: event.data.text() };
  }
  const title = data.title || "";
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body && data.body !== title ? data.body : "",
    tag: self.registration.scope,
    renotify: true,
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const page = self.registration.scope;
  event.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const mine = open.find((client) => client.url.split(/[?#]/)[0] === page);
    if (mine) return mine.focus();
    return self.clients.openWindow(page);
  })());
});
