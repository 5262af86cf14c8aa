// The collector's phone app: today's route, the case card, check-in, the visit report, the queue.
// Everything the collector does is stored on the phone first (IndexedDB) and sent when there is a
// connection; the page itself comes from the service worker's cache when there is none.
import {
  addUpload, enqueue, isoLocal, kvDelete, kvGet, kvSet, queueDelete, queueItems, unsentCount, uploadDelete,
  uploadItems, wipePersonalData,
} from "./store.js";
import { makeApi, syncOnce } from "./sync.js";
import { isRecording, startRecording, stopRecording, takeSegment } from "./recorder.js";
import { stopsMap } from "./map.js";

const config = JSON.parse(document.getElementById("app-config").textContent);
const S = config.strings;
const csrf = () => document.querySelector("#logout-form [name=csrfmiddlewaretoken]").value;
const api = makeApi(csrf);
const main = document.getElementById("app");
const notice = document.getElementById("app-notice");

const MOVED = new Set(["moved", "wrong_address"]);  // the outcomes that make a new address worth taking
let today = null; // {data: the /field/today answer, fetched_at, user}
let screen = { name: "route" };

// ------------------------------------------------------------------ helpers
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else if (k === "hidden") node.hidden = Boolean(v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}
const yuan = (fen) => (typeof fen === "number" ? `¥${(fen / 100).toFixed(2)}` : "");
const hhmm = (iso) => (iso ? new Date(iso).toLocaleTimeString(config.language, { hour: "2-digit", minute: "2-digit" }) : "");
const windowText = (s) => (s.window_start ? `${hhmm(s.window_start)}–${hhmm(s.window_end)}` : "");
function showNotice(text) { notice.textContent = text || ""; notice.hidden = !text; }
function stops() { return (today && today.data && today.data.stops) || []; }
function stopOf(caseId) { return stops().find((s) => s.case_id === caseId) || null; }
function fenOf(text) {
  const m = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text || "");
  return m ? Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0")) : null;
}

// ------------------------------------------------------------------ today's stops
function expired(t) { return Boolean(t && t.data && t.data.wipe_after && Date.now() > Date.parse(t.data.wipe_after)); }

// a report being written stays on the screen, without the customer's details
function dropShownPersonalData() { main.querySelectorAll(".facts, #repay").forEach((el) => el.remove()); }

async function wipeIfDayOver() {
  if (expired(today)) {
    await wipePersonalData();
    today = null;
    showNotice(S.wiped);
    dropShownPersonalData();
    render();
  }
}

// The bank's repayment QR codes of today's stops (SVG made by the server), kept for the day: shown at
// the door with no connection.
async function repayCodes(list) {
  const codes = {};
  for (const s of list) {
    if (!s.repay_url) continue;
    try {
      const resp = await fetch(`${config.urls.field}/cases/${s.case_id}/repay.svg`, { credentials: "same-origin" });
      if (resp.ok) codes[s.case_id] = await resp.blob();
    } catch (e) { /* the link is still shown */ }
  }
  return codes;
}

const qrUrls = new Map();
function qrUrl(caseId) {
  const blob = today && today.qr && today.qr[caseId];
  if (!blob) return null;
  if (!qrUrls.has(blob)) qrUrls.set(blob, URL.createObjectURL(blob));
  return qrUrls.get(blob);
}

let loggingOut = false; // set at logout: nothing of the day is stored on the phone any more
let loading = null;
function loadToday() {
  if (!loading) loading = fetchToday().finally(() => { loading = null; });
  return loading;
}

async function fetchToday() {
  if (loggingOut) return;
  today = (await kvGet("today")) || null;
  if (today && today.user !== config.user) { await kvDelete("today"); today = null; }
  await wipeIfDayOver();
  render();
  const r = await api(config.urls.today).catch(() => null);
  if (r && r.ok && r.data && !loggingOut) {
    const fresh = { data: r.data, fetched_at: isoLocal(), user: config.user, qr: await repayCodes(r.data.stops || []) };
    if (loggingOut) return;
    today = fresh;
    await kvSet("today", today);
    await wipeIfDayOver();
    render();
  }
}

// ------------------------------------------------------------------ screens
function render() {
  const visit = screen.name === "visit" ? screen.visit : null;
  // the report being written is never rebuilt under the collector's fingers (new stops, a lost connection)
  const key = visit ? `visit:${visit.checkin_client_id}` : "";
  if (key && main.dataset.screen === key) { updateNet(); return; }
  main.dataset.screen = key;
  main.replaceChildren();
  if (visit) main.append(visitScreen(visit));
  else if (screen.name === "stop" && stopOf(screen.caseId)) main.append(stopScreen(stopOf(screen.caseId)));
  else main.append(routeScreen());
  updateNet();
}

function routeScreen() {
  const list = stops();
  const d = today && today.data;
  return h("section", { id: "route" },
    h("h2", {}, S.today, d && d.date ? ` · ${d.date}` : ""),
    !navigator.onLine && today ? h("p", { class: "muted", id: "offline-note" }, `${S.offline} ${S.loaded_at} ${hhmm(today.fetched_at)}`) : null,
    list.length ? tileMap(list) : null,
    list.length ? stopsMap(list, { onPick: (s) => go({ name: "stop", caseId: s.case_id }) }) : null,
    list.length
      ? h("ol", { id: "stops", "aria-label": S.stop_list }, list.map((s) => h("li", { "data-case": s.case_id, "data-stop": s.stop_id },
        h("button", { type: "button", class: "stop-open", onclick: () => go({ name: "stop", caseId: s.case_id }) },
          h("span", { class: "order" }, String(s.order)), " ",
          h("strong", {}, s.customer || ""), " ",
          h("span", { class: "t" }, windowText(s)), " ",
          h("span", { class: "amount" }, yuan(s.amount_due_fen))))))
      : h("p", { id: "no-plan" }, S.no_plan));
}

// With a tile provider configured and a connection, the stops on a Leaflet map (the geo helper's
// fieldmap.js, loaded only then: offline the app needs none of it); the SVG map stays the fallback.
function tileMap(list) {
  const box = h("div", { id: "tile-map", class: "fieldmap", hidden: true });
  if (!config.tiles || !navigator.onLine) return box;
  import("../fieldmap.js").then(({ mountMap }) => {
    const svg = document.getElementById("route-map");
    box.hidden = false;
    const handle = mountMap(box, {
      tiles: config.tiles,
      points: list.map((s) => ({ lat: s.lat, lon: s.lon, label: String(s.order), title: s.customer || "" })),
      routes: [{ points: [...list].sort((a, b) => a.order - b.order).map((s) => [s.lat, s.lon]) }],
      onFallback: () => { box.hidden = true; if (svg) svg.hidden = false; },
    });
    if (handle === null) box.hidden = true;
    else if (svg) svg.hidden = true;
  }).catch(() => { box.hidden = true; });
  return box;
}

function caseFacts(s) {
  return h("dl", { class: "facts" },
    h("dt", {}, S.customer), h("dd", { class: "customer" }, s.customer || ""),
    h("dt", {}, S.address), h("dd", { class: "address" }, s.address || ""),
    h("dt", {}, S.amount_due), h("dd", { class: "amount" }, yuan(s.amount_due_fen)),
    h("dt", {}, S.dpd), h("dd", {}, String(s.dpd ?? "")),
    s.window_start ? [h("dt", {}, S.window), h("dd", {}, windowText(s))] : null);
}

function repayBlock(s) {
  if (!s.repay_url) return null;
  const qr = qrUrl(s.case_id);
  return h("section", { id: "repay" }, h("h3", {}, S.repay),
    qr ? h("img", { id: "repay-qr", src: qr, alt: S.repay, width: 180, height: 180 }) : null,
    h("p", {}, h("a", { id: "repay-link", href: s.repay_url, target: "_blank", rel: "noopener" }, S.repay_link)));
}

function stopScreen(s) {
  const nav = s.navigate || {};
  const status = h("p", { id: "checkin-status", class: "muted" });
  return h("section", { id: "stop-card", "data-case": s.case_id },
    h("button", { type: "button", class: "back", onclick: () => go({ name: "route" }) }, S.back),
    h("h2", {}, `${S.case} ${s.case_id}`),
    caseFacts(s),
    h("p", { class: "navigate" }, S.navigate, ": ",
      ["amap", "baidu", "apple"].filter((k) => nav[k]).map((k) => [h("a", { href: nav[k], class: `nav-${k}`, target: "_blank", rel: "noopener" }, S[k]), " "])),
    h("button", { type: "button", id: "checkin-btn", class: "primary", onclick: () => checkIn(s, status) }, S.check_in),
    status);
}

function go(next) { screen = next; render(); window.scrollTo(0, 0); }

// ------------------------------------------------------------------ check-in and the visit
function position() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(new Error("no geolocation")); return; }
    navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
  });
}

async function checkIn(stop, status) {
  status.textContent = S.locating;
  let pos;
  try { pos = await position(); } catch (e) { status.textContent = S.no_position; return; }
  const coordSystem = (await kvGet("coord_system")) || "wgs84";
  const item = await enqueue(config.user, "checkin", stop.case_id, {
    lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy_m: Math.round(pos.coords.accuracy || 0),
    coord_system: coordSystem, permit: stop.permit ? stop.permit.token : null });
  const visit = { case_id: stop.case_id, stop_id: stop.stop_id, checkin_client_id: item.client_id,
    report_client_id: crypto.randomUUID(), segments: [], started_at: item.at };
  await kvSet("visit", visit);
  await resumeRecording(visit);
  go({ name: "visit", visit });
  renderQueue();
  runSync();
}

async function resumeRecording(visit) {
  if (isRecording()) return;
  const segment = crypto.randomUUID();
  visit.segments.push(segment);
  await kvSet("visit", visit);
  visit.recording = await startRecording(segment);
}

function visitScreen(visit) {
  const s = stopOf(visit.case_id) || { case_id: visit.case_id };
  const mayDiscuss = new Set(config.may_discuss_debt);
  const outcome = h("select", { name: "outcome", required: true });
  const identity = h("select", { name: "identity_check" }, h("option", { value: "" }, "—"),
    config.identity_checks.map((c) => h("option", { value: c }, S[`identity_${c}`] || c)));
  const identityRow = h("label", { id: "identity-row", hidden: true }, S.identity_check, identity);
  const thirdNote = h("p", { id: "third-party-note", class: "notice", hidden: true }, S.third_party_note);
  const promise = h("fieldset", { id: "promise-fields", hidden: true }, h("legend", {}, S.promise),
    h("label", {}, S.promise_amount, h("input", { name: "promise_amount", inputmode: "decimal", autocomplete: "off" })),
    h("label", {}, S.promise_due, h("input", { name: "promise_due", type: "date" })));
  // what the collector learns at the door: a new number always, a new address when the debtor moved
  const newAddress = h("input", { name: "new_address", autocomplete: "off", maxlength: 300, disabled: true });
  const addressRow = h("label", { id: "new-address-row", hidden: true }, S.new_address, newAddress);
  const found = h("fieldset", { id: "found-fields" }, h("legend", {}, S.found),
    h("label", {}, S.new_phone, h("input", { name: "new_phone", type: "tel", inputmode: "tel", autocomplete: "off",
      maxlength: 32 })),
    addressRow);
  outcome.addEventListener("change", () => {
    const moved = MOVED.has(outcome.value);
    addressRow.hidden = !moved;
    newAddress.disabled = !moved;
    if (!moved) newAddress.value = "";
  });
  const repay = repayBlock(s);
  if (repay) repay.hidden = true;
  const mets = ["debtor", "family", "third_party", "nobody"];
  const problem = h("p", { id: "report-problem", class: "notice", hidden: true });

  function onMet(met) {
    outcome.replaceChildren(h("option", { value: "" }, "—"),
      ...(config.outcomes[met] || []).map(([v, label]) => h("option", { value: v }, label)));
    identityRow.hidden = met !== "debtor";
    thirdNote.hidden = !(met === "family" || met === "third_party");
    const debt = mayDiscuss.has(met);
    promise.hidden = !debt;
    promise.querySelectorAll("input").forEach((i) => { i.disabled = !debt; if (!debt) i.value = ""; });
    if (repay) repay.hidden = !debt;
    outcome.dispatchEvent(new Event("change"));  // the outcome was emptied: no new address either
  }

  const form = h("form", { id: "report-form", novalidate: true },
    h("fieldset", { id: "met" }, h("legend", {}, S.met),
      mets.map((m) => h("label", { class: "choice" },
        h("input", { type: "radio", name: "met", value: m, onchange: () => onMet(m) }), " ", S[`met_${m}`]))),
    identityRow, thirdNote,
    h("label", {}, S.outcome, outcome),
    h("label", {}, S.notes, h("textarea", { name: "notes", rows: 4 })),
    promise,
    found,
    h("label", {}, S.photo, h("input", { name: "photo", type: "file", accept: "image/*", capture: "environment" })),
    problem,
    h("button", { type: "submit", id: "end-visit", class: "primary" }, S.end_visit));
  form.addEventListener("submit", (e) => { e.preventDefault(); endVisit(visit, form, problem); });
  onMet("");

  return h("section", { id: "visit", "data-case": visit.case_id },
    h("h2", {}, `${S.report} · ${S.case} ${visit.case_id}`),
    h("p", { id: "checkin-state", class: "ok" }, `${S.checked_in} ${hhmm(visit.started_at)}`),
    h("p", { id: "recording-state", "data-recording": isRecording() ? "on" : "off", class: isRecording() ? "rec" : "notice" },
      isRecording() ? S.recording : S.no_recording),
    s.customer ? caseFacts(s) : null,
    repay,
    form);
}

async function endVisit(visit, form, problem) {
  const f = new FormData(form);
  const met = f.get("met") || "";
  const outcome = f.get("outcome") || "";
  const identity = f.get("identity_check") || "";
  const amount = fenOf(f.get("promise_amount"));
  const due = f.get("promise_due") || "";
  if (!met || !outcome || (met === "debtor" && !identity)) {
    problem.textContent = S.invalid_form; problem.hidden = false; return;
  }
  const newPhone = (f.get("new_phone") || "").trim();
  const digits = newPhone.replace(/\D/g, "").length;
  if (newPhone && (digits < 7 || digits > 15)) {  // the rule of skip tracing's phone numbers
    problem.textContent = S.invalid_phone; problem.hidden = false; return;
  }
  form.querySelector("#end-visit").disabled = true;
  await stopRecording();
  const user = config.user;
  // the files of the report, named in it (the server closes the report once they have all arrived)
  const files = [];
  const photo = form.querySelector("input[name=photo]").files[0];
  if (photo) files.push({ kind: "photo", blob: photo, release: async () => {} });
  for (const segment of visit.segments) {
    const { blob, release } = await takeSegment(segment);
    if (blob) files.push({ kind: "audio", blob, release });
  }
  files.forEach((file) => { file.client_id = crypto.randomUUID(); });
  await enqueue(user, "report", visit.case_id, {
    checkin_client_id: visit.checkin_client_id, met, identity_check: met === "debtor" ? identity : "",
    outcome, notes: f.get("notes") || "", ended_at: isoLocal(), uploads: files.map((file) => file.client_id),
    new_phone: newPhone, new_address: MOVED.has(outcome) ? (f.get("new_address") || "").trim() : "" },
  visit.report_client_id);
  if (new Set(config.may_discuss_debt).has(met) && amount && due) {
    await enqueue(user, "promise", visit.case_id, { report_client_id: visit.report_client_id, amount_fen: amount, due });
  }
  for (const file of files) {
    await addUpload(user, visit.report_client_id, visit.case_id, file.kind, file.blob, file.client_id);
    await file.release();
  }
  await kvDelete("visit");
  showNotice(S.saved);
  go({ name: "route" });
  await renderQueue();
  runSync();
}

// ------------------------------------------------------------------ the queue
const KIND = { checkin: S.kind_checkin, report: S.kind_report, promise: S.kind_promise, photo: S.kind_photo, audio: S.kind_audio };

async function renderQueue() {
  const list = document.getElementById("queue");
  const rows = [...(await queueItems()).map((i) => ({ ...i, upload: false })),
    ...(await uploadItems()).map((u) => ({ ...u, upload: true }))]
    .filter((r) => r.user === config.user) // another collector's items wait for their own log-in
    .sort((a, b) => a.seq - b.seq);
  list.replaceChildren(...rows.map((r) => {
    const stop = stopOf(r.case_id);
    const progress = r.upload && r.state === "waiting" && r.received ? ` ${Math.floor((100 * r.received) / r.size)}%` : "";
    return h("li", { "data-client-id": r.client_id, "data-kind": r.kind, "data-state": r.state, class: `q-${r.state}` },
      h("span", { class: "kind" }, KIND[r.kind] || r.kind), " · ",
      h("span", { class: "case" }, stop && stop.customer ? `${stop.customer} (${r.case_id})` : `${S.case} ${r.case_id}`), " · ",
      h("span", { class: "state" }, (S[`state_${r.state}`] || r.state) + progress),
      r.state === "refused" ? [h("span", { class: "reason", "data-code": r.code || "" }, r.message || r.code || ""),
        h("button", { type: "button", class: "dismiss", onclick: () => dismiss(r) }, S.dismiss)] : null);
  }));
  if (!rows.length) list.append(h("li", { class: "muted" }, S.queue_empty));
}

async function dismiss(row) {
  if (row.upload) await uploadDelete(row.client_id); else await queueDelete(row.client_id);
  renderQueue();
}

let syncing = null;
function runSync() {
  if (syncing) return syncing;
  const button = document.getElementById("sync-now");
  button.disabled = true;
  button.textContent = S.syncing;
  syncing = syncOnce(api, config).catch((e) => { console.warn(e); return false; }).finally(async () => {
    await renderQueue();
    syncing = null;
    button.disabled = false;
    button.textContent = S.sync;
    document.body.dataset.syncs = String(Number(document.body.dataset.syncs || 0) + 1); // passes made
  });
  return syncing;
}

function updateNet() {
  const net = document.getElementById("net-state");
  net.dataset.online = navigator.onLine ? "yes" : "no";
  net.textContent = navigator.onLine ? S.online : S.offline;
}

// ------------------------------------------------------------------ logout keeps what was not sent
function hookLogout() {
  const form = document.getElementById("logout-form");
  const warning = document.getElementById("logout-warning");
  let confirmed = false;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    loggingOut = true;
    if (loading) await loading;
    await wipePersonalData();
    today = null;
    dropShownPersonalData();
    render();
    const unsent = await unsentCount();
    if (unsent > 0 && !confirmed) {
      warning.replaceChildren(S.logout_warning, " ",
        h("button", { type: "button", id: "logout-anyway", onclick: () => { confirmed = true; form.submit(); } }, S.logout_anyway));
      warning.hidden = false;
      return;
    }
    form.submit();
  });
}

// ------------------------------------------------------------------ settings and start
async function hookSettings() {
  const select = document.getElementById("coord-system");
  select.value = (await kvGet("coord_system")) || "wgs84";
  select.addEventListener("change", () => kvSet("coord_system", select.value));
}

async function start() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.urls.sw, { scope: config.urls.scope }).catch((e) => console.warn(e));
  } else {
    showNotice(S.not_installed);
  }
  hookLogout();
  await hookSettings();
  // one request at a time: the queue first, then today's stops
  document.getElementById("sync-now").addEventListener("click", () => runSync().then(loadToday));
  window.addEventListener("online", () => { updateNet(); runSync().then(loadToday); });
  window.addEventListener("offline", () => render());  // the route notes it; a report in writing is kept
  setInterval(wipeIfDayOver, 60_000);
  const visit = await kvGet("visit");
  if (visit) {
    await resumeRecording(visit);
    screen = { name: "visit", visit };
  }
  await loadToday();
  await renderQueue();
  if (navigator.onLine) await runSync();
  document.body.dataset.ready = "yes";
}

start();
