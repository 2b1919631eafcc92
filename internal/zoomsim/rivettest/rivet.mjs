// rivet.mjs drives kaisai's Zoom simulator with Zoom's own Node SDK,
// @zoom/rivet, the way an app built on it uses Zoom: Rivet's OAuth
// installer (authorization code, without PKCE), its Meetings API client and
// its webhook receiver. ../rivet_test.go runs it with SIM_URL set to a
// running simulator (and SIM_API_URL to its /v2, through a proxy that checks
// requests and answers against Zoom's spec), and checks the report printed
// on stdout (one JSON object): each
// step's answer, the OAuth requests Rivet made and every event Rivet's
// receiver accepted. The script checks each step too, and stops at the
// first that fails, with "failure" in the report and exit status 1.
import axios from "axios";
import { HttpReceiver, MeetingsOAuthClient } from "@zoom/rivet/meetings";

const sim = process.env.SIM_URL;
const apiURL = process.env.SIM_API_URL ?? `${sim}/v2`;
const clientId = "rivet-test-app";
const clientSecret = "rivet-test-app-secret";
const secretToken = "rivet-test-secret-token";
const host = { email: "licensed@example.com", password: "password" }; // seeded in the simulator

// Every event the simulator sends (endpoint.url_validation aside, which
// Rivet's receiver answers itself).
const events = [
  "meeting.created", "meeting.updated", "meeting.deleted", "meeting.started", "meeting.ended",
  "meeting.participant_joined", "meeting.participant_left",
  "meeting.registration_created", "meeting.registration_approved", "meeting.registration_cancelled",
  "app_deauthorized",
];

const report = { steps: [], token_requests: [], events: [] };

class StepFailed extends Error {}

function check(ok, what) {
  if (!ok) throw new StepFailed(what);
}

// Rivet has no setting for Zoom's OAuth host: its installer and its token
// requests use a constant, https://zoom.us (OAUTH_BASE_URL in its source),
// where its API client takes a baseUrl. The token requests go through the
// default axios instance, which this script shares (package.json pins the
// axios that Rivet resolves, so node_modules holds one copy): this
// interceptor sends them to the simulator, with Rivet's own method,
// headers and form. The authorization URL Rivet redirects the browser to is
// rewritten where this script plays the browser.
const zoomOrigin = "https://zoom.us";
axios.interceptors.request.use((config) => {
  if (typeof config.url === "string" && config.url.startsWith(zoomOrigin + "/")) {
    const form = config.data instanceof URLSearchParams ? config.data : new URLSearchParams();
    report.token_requests.push({
      url: config.url, grant_type: form.get("grant_type"), code_verifier: form.has("code_verifier"),
    });
    config.url = sim + config.url.slice(zoomOrigin.length);
  }
  return config;
});

// api runs one call of Rivet's API client and records its answer; an error
// Rivet throws fails the step.
async function api(name, call, wantStatus) {
  let r;
  try {
    r = await call();
  } catch (err) {
    report.steps.push({ name, error: `${err.name}: ${err.message}` });
    throw new StepFailed(`${name}: ${err.name}: ${err.message}${err.cause ? ` (${err.cause})` : ""}`);
  }
  report.steps.push({ name, status: r.statusCode, data: r.data ?? null });
  check(r.statusCode === wantStatus, `${name}: status ${r.statusCode}, want ${wantStatus}`);
  return r.data;
}

// ctl calls the simulator's control API.
async function ctl(method, path, body) {
  const res = await fetch(sim + path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  check(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// waitFor polls cond until it gives a truthy value, or fails at the deadline.
async function waitFor(what, cond, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await cond();
    if (v) return v;
    check(Date.now() < deadline, `timed out after ${seconds}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const appDeliveries = async (event) =>
  (await ctl("GET", "/_sim/webhooks" + (event ? `?event=${event}` : ""))).filter((d) => d.client_id === clientId);

// Attribute values as html/template writes them.
const unescapeHTML = (s) =>
  s.replace(/&(amp|lt|gt|quot|#(\d+));/g, (_, name, code) =>
    code ? String.fromCodePoint(Number(code)) : { amp: "&", lt: "<", gt: ">", quot: '"' }[name]);

async function run() {
  check(sim, "SIM_URL is not set");

  // Rivet's receiver first, on a free port, so that its URL is known to
  // the client's installer and to the app on Zoom's side.
  const receiver = new HttpReceiver({ port: 0, webhooksSecretToken: secretToken });
  const server = await receiver.start();
  const base = `http://127.0.0.1:${server.address().port}`;
  const client = new MeetingsOAuthClient({
    clientId, clientSecret, receiver, baseUrl: apiURL,
    installerOptions: { redirectUri: base, stateStore: "rivet-test-state-secret", directInstall: true },
  });
  for (const name of events) {
    client.webEventConsumer.event(name, (e) => void report.events.push(e));
  }

  // The app in Zoom's Marketplace: its redirect URL and event subscription
  // point at Rivet. Zoom validates the endpoint at once.
  await ctl("POST", "/_sim/apps", {
    client_id: clientId, client_secret: clientSecret, redirect_uris: [`${base}/zoom/oauth/callback`],
    scopes: ["meeting:read:meeting", "meeting:write:meeting", "meeting:update:meeting", "meeting:delete:meeting",
      "meeting:write:registrant", "meeting:read:list_registrants", "meeting:write:batch_registrants",
      "meeting:update:registrant_status", "meeting:read:list_past_participants"],
    event_url: `${base}/zoom/events`, secret_token: secretToken,
  });
  const validation = await waitFor("endpoint.url_validation", async () =>
    (await appDeliveries("endpoint.url_validation")).find((d) => d.done));
  report.steps.push({ name: "url_validation", delivered: validation.delivered });
  check(validation.delivered, `Rivet's receiver did not pass endpoint.url_validation: ${JSON.stringify(validation.attempts)}`);

  // Tokens that live 30 s are "almost expired" to Rivet (under its 60 s
  // margin), so it refreshes before every call: each call rotates the
  // refresh token.
  await ctl("POST", "/_sim/token-lifetime", { access_token: "30s" });

  // The installer: Rivet redirects the browser to Zoom's consent page,
  // without PKCE.
  let res = await fetch(`${base}/zoom/oauth/install`, { redirect: "manual" });
  check(res.status === 302, `install: status ${res.status}, want 302`);
  const authorizeURL = new URL(res.headers.get("location"));
  const stateCookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
  report.steps.push({ name: "install", status: res.status, authorize_url: authorizeURL.toString() });
  check(authorizeURL.origin === zoomOrigin && authorizeURL.pathname === "/oauth/authorize",
    `install redirects to ${authorizeURL}`);
  check(!authorizeURL.searchParams.has("code_challenge"), "Rivet asked for PKCE");

  // The person signs in on the consent page (the simulator's, standing in
  // for zoom.us) and clicks Allow: the form's hidden fields as the page
  // has them, with the e-mail, password and button.
  res = await fetch(new URL(authorizeURL.pathname + authorizeURL.search, sim));
  const page = await res.text();
  check(res.status === 200 && page.includes('action="/oauth/authorize"'), `consent page: ${res.status} ${page}`);
  const form = new URLSearchParams();
  for (const [, name, value] of page.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    form.set(name, unescapeHTML(value));
  }
  form.set("email", host.email);
  form.set("password", host.password);
  form.set("action", "approve");
  res = await fetch(new URL("/oauth/authorize", sim), { method: "POST", body: form, redirect: "manual" });
  check(res.status === 302, `consent: status ${res.status}, want 302: ${await res.text()}`);
  const callback = new URL(res.headers.get("location"));
  check(callback.origin === base && callback.searchParams.get("code") && callback.searchParams.get("error") === null,
    `consent redirects to ${callback}`);

  // Back at Rivet's callback, which exchanges the code.
  res = await fetch(callback, { headers: { cookie: stateCookie } });
  const done = await res.text();
  report.steps.push({ name: "callback", status: res.status });
  check(res.status === 200, `Rivet's OAuth callback: ${res.status} ${done}`);

  // Meetings.
  const m = client.endpoints.meetings;
  const topic = "Rivet & the simulator: <入門>\u2028説明会";
  const created = await api("createMeeting", () => m.createMeeting({
    path: { userId: "me" },
    body: { topic, type: 2, start_time: "2030-05-01T10:00:00Z", duration: 60, timezone: "Asia/Tokyo",
      settings: { approval_type: 1, waiting_room: false } },
  }), 201);
  const meetingId = created.id;
  check(typeof meetingId === "number" && created.topic === topic, `createMeeting: ${JSON.stringify(created)}`);
  const got = await api("getMeeting", () => m.getMeeting({ path: { meetingId } }), 200);
  check(got.id === meetingId && got.topic === topic, `getMeeting: ${JSON.stringify(got)}`);
  await api("updateMeeting", () => m.updateMeeting({ path: { meetingId }, body: { duration: 90, agenda: "A & B" } }), 204);
  const reread = await api("getMeeting after update", () => m.getMeeting({ path: { meetingId } }), 200);
  check(reread.duration === 90 && reread.agenda === "A & B", `after updateMeeting: ${JSON.stringify(reread)}`);

  // Registrants: one added (pending: the meeting approves by hand) and
  // approved, two in a batch (approved at once), one of them cancelled.
  const added = await api("addMeetingRegistrant", () => m.addMeetingRegistrant({
    path: { meetingId }, body: { email: "aiko@example.org", first_name: "Aiko & Co", last_name: "<Sato>" },
  }), 201);
  check(added.registrant_id && added.join_url, `addMeetingRegistrant: ${JSON.stringify(added)}`);
  const pending = await api("listMeetingRegistrants pending", () =>
    m.listMeetingRegistrants({ path: { meetingId }, query: { status: "pending" } }), 200);
  check(pending.total_records === 1 && pending.registrants[0].id === added.registrant_id,
    `pending registrants: ${JSON.stringify(pending)}`);
  await api("updateRegistrantsStatus approve", () => m.updateRegistrantsStatus({
    path: { meetingId }, body: { action: "approve", registrants: [{ id: added.registrant_id }] },
  }), 204);
  const batch = await api("performBatchRegistration", () => m.performBatchRegistration({
    path: { meetingId },
    body: { auto_approve: true, registrants: [{ email: "ken@example.org", first_name: "Ken" }, { email: "mio@example.org", first_name: "Mio" }] },
  }), 201);
  check(batch.registrants?.length === 2, `performBatchRegistration: ${JSON.stringify(batch)}`);
  await api("updateRegistrantsStatus cancel", () => m.updateRegistrantsStatus({
    path: { meetingId }, body: { action: "cancel", registrants: [{ email: "mio@example.org" }] },
  }), 204);
  const approved = await api("listMeetingRegistrants approved", () =>
    m.listMeetingRegistrants({ path: { meetingId }, query: { status: "approved", page_size: 300 } }), 200);
  const emails = approved.registrants.map((r) => r.email).sort();
  check(JSON.stringify(emails) === JSON.stringify(["aiko@example.org", "ken@example.org"]),
    `approved registrants: ${JSON.stringify(approved)}`);

  // Aiko joins with her personal link and leaves; the meeting ends; the
  // report lists her.
  const p = await ctl("POST", `/_sim/meetings/${meetingId}/join`, { join_url: added.join_url });
  await ctl("POST", `/_sim/meetings/${meetingId}/leave`, { participant_id: p.id });
  await ctl("POST", `/_sim/meetings/${meetingId}/end`);
  const past = await api("getPastMeetingParticipants", () => m.getPastMeetingParticipants({ path: { meetingId } }), 200);
  check(past.participants?.length === 1 && past.participants[0].registrant_id === added.registrant_id &&
    past.participants[0].user_email === "aiko@example.org", `past participants: ${JSON.stringify(past)}`);

  await api("deleteMeeting", () => m.deleteMeeting({ path: { meetingId } }), 204);

  // The host removes the app: app_deauthorized, and Rivet's refresh token
  // is refused from then on.
  await ctl("POST", "/_sim/remove-app", { email: host.email, client_id: clientId });
  try {
    await m.getMeeting({ path: { meetingId } });
    report.steps.push({ name: "getMeeting after removal", error: "" });
  } catch (err) {
    report.steps.push({ name: "getMeeting after removal", error: err.name });
  }
  check(report.steps.at(-1).error === "OAuthTokenRefreshFailedError",
    `after the app's removal Rivet's call gave ${JSON.stringify(report.steps.at(-1))}`);

  // Every delivery accepted by Rivet's receiver at the first attempt (a
  // refused one would be retried minutes later), and in its listeners.
  const refused = (d) => (d.attempts ?? []).some((a) => a.Status < 200 || a.Status > 299); // null before the first
  const deliveries = await waitFor("the webhook deliveries", async () => {
    const ds = (await appDeliveries()).filter((d) => d.event !== "endpoint.url_validation");
    const all = ds.length > 0 && ds.every((d) => d.done) && ds.at(-1).event === "app_deauthorized";
    return (all || ds.some(refused)) && ds;
  });
  check(!deliveries.some(refused), `deliveries Rivet refused: ${JSON.stringify(deliveries.filter(refused))}`);
  check(report.events.length === deliveries.length,
    `Rivet's listeners got ${report.events.length} events of ${deliveries.length} delivered`);
  check(report.token_requests.length > 1, "Rivet's token requests did not pass through this script's axios");
  await receiver.stop();
}

let status = 0;
try {
  await run();
} catch (err) {
  report.failure = err instanceof StepFailed ? err.message : String(err.stack ?? err);
  status = 1;
}
process.stdout.write(JSON.stringify(report) + "\n", () => process.exit(status));
