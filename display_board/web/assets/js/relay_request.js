// Requests that may go through the public relay (docs/relay.md): where the relay exists, a
// booking or a notice subscription waits there for the queue server to pull it. The relay passes
// on the queue server's answer when it comes within a few seconds; otherwise it answers 202 with
// a URL to poll. `send` makes both look like the queue server's own answer, so a page calls the
// same relative URL whether the queue server or a relay serves it (reserve page, ticket page).
import { api, ApiError } from "./common.js";

const POLL_MS = 1000;
const GIVE_UP_MS = 90000;
const POLL_PREFIX = "/api/v1/relay-requests/";
const pause = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** POST (or any call) through `api`; a 202 from the relay is followed until the answer. */
export async function send(path, options = {}, { onWaiting } = {}) {
  const answer = await api(path, options);
  const waiting = answer && answer.relay_request;
  if (!waiting || typeof waiting.poll_url !== "string" || !waiting.poll_url.startsWith(POLL_PREFIX)) {
    return answer;
  }
  if (onWaiting) onWaiting();
  const deadline = Date.now() + GIVE_UP_MS;
  while (Date.now() < deadline) {
    await pause(POLL_MS);
    let response;
    try {
      response = await fetch(waiting.poll_url, { cache: "no-store" });
    } catch {
      continue; // the network blinked: ask again
    }
    if (response.status === 202) continue;
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }
  throw new ApiError(503, { error: { code: "bookings_unavailable", message: "no answer in time" } });
}

/** The catalogue key for an error of the relay itself, or null for the queue server's own. */
export function relayProblem(error) {
  if (!(error instanceof ApiError)) return null;
  if (error.code === "bookings_unavailable" || error.code === "busy") return "unavailable";
  if (error.code === "rate_limited") return "too_many";
  return null;
}
