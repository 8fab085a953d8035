// The ticket page's notice panel: "tell me when N people are ahead" (and when called) on this
// screen, or by Web Push, e-mail or LINE when the office sends on them. The server keeps the
// subscription (the address only until day close); this page keeps its token to stop it.
import { ApiError, el, fill } from "./common.js";
import { relayProblem, send } from "./relay_request.js";

const $ = (id) => document.getElementById(id);
// The order the choices are shown in; "page" needs no server and no address.
const ORDER = ["page", "webpush", "email", "line"];

/** Every request of the panel goes through here, with relative URLs only: on the relay a POST
 * may answer 202 and a URL to poll, which `send` follows to the queue server's answer. */
export async function notifyRequest(path, body) {
  return body === undefined ? send(path) : send(path, { method: "POST", body });
}

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function keyBytes(text) {
  const padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (ch) => ch.charCodeAt(0));
}

export async function permitted() {
  if (!("Notification" in window)) return false;
  if (Notification.permission === "default") await Notification.requestPermission();
  return Notification.permission === "granted";
}

/** The service worker for this page only (a ticket's page, or /reserve): its scope is the page
 * itself, so a tap on a push message opens or focuses exactly this page. */
export async function pushSubscription() {
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: location.pathname });
  const worker = registration.installing || registration.waiting || registration.active;
  if (worker && worker.state !== "activated") {
    await new Promise((resolve) => {
      worker.addEventListener("statechange", () => { if (worker.state === "activated") resolve(); });
    });
  }
  const { key } = await notifyRequest("/api/v1/notify/vapid-public-key");
  const existing = await registration.pushManager.getSubscription();
  return existing || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
}

export async function dropPush() {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.getRegistration(location.pathname);
  if (!registration) return;
  const subscription = await registration.pushManager.getSubscription();
  if (subscription) await subscription.unsubscribe();
  await registration.unregister();
}

export class NotifyPanel {
  /** `settings` ({on, ahead, told, channel, token}) is the page's, saved with `save()`;
   * `changed()` runs after each change (the page renders and checks what is due). */
  constructor({ publicId, settings, save, changed, language }) {
    Object.assign(this, { publicId, settings, save, changed, language });
    this.channels = ["page"];
    this.tx = null;
    this.busy = false;
  }

  async start() {
    try {
      const offered = (await notifyRequest("/api/v1/notify/channels")).channels || [];
      this.channels = ORDER.filter((c) => c === "page" || (offered.includes(c) && (c !== "webpush" || pushSupported())));
    } catch (error) { /* only this screen then */ }
    if (!this.settings.channel || (!this.settings.on && !this.channels.includes(this.settings.channel))) {
      this.settings.channel = "page";
    }
    $("notify-subscribe").addEventListener("click", () => this.subscribe());
    $("notify-stop").addEventListener("click", () => this.stop());
    this.render(this.tx);
  }

  say(key) {
    $("notify-message").textContent = key ? this.tx.t(key) : "";
  }

  render(tx) {
    this.tx = tx;
    if (!tx) return;
    const s = this.settings;
    $("notify-title").textContent = tx.t("public.notify_title");
    $("notify-when-label").textContent = tx.t("public.notify_when");
    $("notify-how").textContent = tx.t("public.notify_how");
    $("notify-ahead").value = String(s.ahead);
    const choices = this.channels.map((channel) => el("label", {},
      el("input", {
        type: "radio", name: "notify-channel", value: channel, checked: channel === s.channel,
        onchange: () => { s.channel = channel; this.save(); this.render(this.tx); },
      }),
      tx.t(`public.notify_channel_${channel}`)));
    fill($("notify-channels"), $("notify-how"), choices);
    const needsAddress = s.channel === "email" || s.channel === "line";
    $("notify-address-row").hidden = !needsAddress;
    $("notify-address").type = s.channel === "email" ? "email" : "text";
    $("notify-address").autocomplete = s.channel === "email" ? "email" : "off";
    $("notify-address-label").textContent = tx.t(s.channel === "line" ? "public.notify_line_label" : "public.notify_email_label");
    $("notify-privacy").hidden = s.channel === "page";
    $("notify-privacy").textContent = tx.t("public.notify_privacy");
    $("notify-subscribe").textContent = tx.t("public.notify_on");
    $("notify-subscribe").disabled = this.busy;
    $("notify-stop").textContent = tx.t("public.notify_off");
    $("notify-stop").disabled = this.busy;
    $("notify-form").hidden = s.on;
    $("notify-active").hidden = !s.on;
    $("notify-status").textContent = s.on
      ? tx.t("public.notify_active", { n: s.ahead, channel: tx.t(`public.notify_channel_${s.channel || "page"}`) })
      : "";
  }

  async subscribe() {
    const s = this.settings;
    const channel = s.channel;
    let address = null;
    if (channel === "email" || channel === "line") {
      address = $("notify-address").value.trim();
      if (!address) return this.say("public.notify_address_invalid");
    }
    this.busy = true;
    this.render(this.tx);
    try {
      if (channel === "page" || channel === "webpush") {
        if (!(await permitted())) {
          this.say("public.notify_blocked");
          if (channel === "webpush") return;
        }
      }
      if (channel === "webpush") {
        try {
          address = JSON.stringify((await pushSubscription()).toJSON());
        } catch (error) {
          return this.say("public.notify_push_failed");
        }
      }
      let token = null;
      if (channel !== "page") {
        const answer = await notifyRequest("/api/v1/notify/subscribe", {
          public_id: this.publicId, channel, address, ahead: s.ahead, language: this.language(),
        });
        token = answer && answer.subscription ? answer.subscription.token : null;
        $("notify-address").value = "";
      }
      Object.assign(s, { on: true, token, told: [] });
      if (channel !== "page" || ("Notification" in window && Notification.permission === "granted")) this.say(null);
    } catch (error) {
      this.say(failure(error));
    } finally {
      this.busy = false;
      this.save();
      this.changed();
    }
  }

  async stop() {
    const s = this.settings;
    this.busy = true;
    this.render(this.tx);
    try {
      if (s.token) await notifyRequest("/api/v1/notify/unsubscribe", { token: s.token });
      if (s.channel === "webpush") await dropPush().catch(() => {});
      Object.assign(s, { on: false, token: null });
      this.say(s.channel === "page" ? null : "public.notify_stopped");
    } catch (error) {
      this.say(failure(error));
    } finally {
      this.busy = false;
      this.save();
      this.changed();
    }
  }
}

function failure(error) {
  const relay = relayProblem(error);
  if (relay === "unavailable") return "public.notify_unavailable";
  if (error instanceof ApiError) {
    if (error.code === "rate_limited") return "common.rate_limited";
    if (error.status === 404) return "public.not_found";
    if (error.status === 422) return "public.notify_address_invalid";
  }
  return "public.notify_failed";
}
