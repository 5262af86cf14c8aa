// Sending what the phone recorded: the queued actions in the order they were made (one call to the
// idempotent /field/sync: sending twice records once), then the evidence files in chunks that resume
// where the server says it stopped.
import {
  queueItems, queuePut, uploadItems, uploadPut,
} from "./store.js";

export class Offline extends Error {}

export function makeApi(csrfToken) {
  return async function api(url, { method = "GET", json, body, headers = {} } = {}) {
    const h = { "X-CSRFToken": csrfToken(), Accept: "application/json", ...headers };
    if (json !== undefined) { h["Content-Type"] = "application/json"; body = JSON.stringify(json); }
    let resp;
    try {
      resp = await fetch(url, { method, headers: h, body, credentials: "same-origin", cache: "no-store" });
    } catch (e) {
      throw new Offline(String(e));
    }
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    return { status: resp.status, ok: resp.ok, data };
  };
}

// the API's error shape: {"error": {"code", "message", "extra"}} (also accepted flat)
export function errorOf(data) {
  const e = (data && data.error) || data || {};
  return { code: e.code || null, message: e.message || null, extra: e.extra || {} };
}

function toAction(item) {
  return { client_id: item.client_id, kind: item.kind, case_id: item.case_id, at: item.at, payload: item.payload };
}

async function applyResult(item, r) {
  item.server_status = r.status;
  item.state = r.status === "refused" ? "refused" : "sent";
  item.code = r.code || null;
  item.message = r.message || null;
  item.id = r.id ?? null;
  // what the server has is no longer kept on the phone beyond the item's state
  if (item.state === "sent") item.payload = null;
  await queuePut(item);
}

async function sendActions(api, urls, items) {
  const resp = await api(urls.sync, { method: "POST", json: { actions: items.map(toAction) } });
  if (resp.ok && resp.data && Array.isArray(resp.data.results)) {
    const byId = new Map(items.map((i) => [i.client_id, i]));
    for (const r of resp.data.results) {
      const item = byId.get(r.client_id);
      if (item) await applyResult(item, r);
    }
    return true;
  }
  if (resp.status === 422 && items.length > 1) {
    // one malformed action must not hold back the others: each alone, so the bad one is named
    for (const item of items) await sendActions(api, urls, [item]);
    return true;
  }
  if (resp.status === 422 || resp.status === 400) {
    const e = errorOf(resp.data);
    await applyResult(items[0], { status: "refused", code: e.code, message: e.message });
    return true;
  }
  return false; // not logged in, server error: everything stays waiting
}

// what the server's answer to an upload means for the phone's copy
const FINAL_REFUSALS = new Set([413, 415, 422]); // too large, not the kind it said, damaged (SHA-256)

async function refuseUpload(up, resp) {
  const e = errorOf(resp.data);
  up.state = "refused"; up.code = e.code; up.message = e.message;
  await uploadPut(up);
}

async function completeUpload(up, evidenceId) {
  up.state = "sent"; up.received = up.size; up.evidence_id = evidenceId ?? null; up.blob = null;
  await uploadPut(up);
}

async function sendUpload(api, urls, up, reports, chunkBytes) {
  const report = reports.get(up.report_client_id);
  if (report && report.state === "refused") {
    up.state = "refused"; up.code = report.code; up.message = report.message;
    await uploadPut(up);
    return;
  }
  // the report goes first (one no longer on the phone was sent and wiped: the server knows it)
  if (report && report.state !== "sent") return;
  if (up.upload_id === null) {
    const resp = await api(urls.uploads, { method: "POST", json: {
      client_id: up.client_id, report_client_id: up.report_client_id, kind: up.kind,
      content_type: up.content_type, size: up.size, sha256: up.sha256 } });
    if (FINAL_REFUSALS.has(resp.status) || (resp.status === 400)) { await refuseUpload(up, resp); return; }
    if (!resp.ok) return; // 409 report_not_synced, not logged in, server error: later
    up.upload_id = resp.data.upload_id;
    up.received = resp.data.received || 0;
    if (resp.data.complete) { await completeUpload(up, resp.data.evidence_id); return; }
    await uploadPut(up);
  }
  for (let guard = 0; guard < 100000 && up.received < up.size; guard++) {
    const start = up.received;
    const end = Math.min(up.size, start + chunkBytes) - 1;
    const resp = await api(`${urls.uploads}/${up.upload_id}`, {
      method: "PUT", body: up.blob.slice(start, end + 1),
      headers: { "Content-Type": "application/octet-stream", "Content-Range": `bytes ${start}-${end}/${up.size}` } });
    if (resp.status === 409) {
      const e = errorOf(resp.data);
      if (e.code === "upload.complete" || e.extra.evidence_id) { await completeUpload(up, e.extra.evidence_id); return; }
      const received = (resp.data && resp.data.received) ?? e.extra.received;
      if (typeof received !== "number" || received === start) return; // e.g. the report is not synced yet
      up.received = received; // resume where the server is
      await uploadPut(up);
      continue;
    }
    if (resp.status === 404) { up.upload_id = null; up.received = 0; await uploadPut(up); return; } // open again
    if (FINAL_REFUSALS.has(resp.status)) { await refuseUpload(up, resp); return; }
    if (!resp.ok) return; // a chunk cut short (400), not logged in, server error: later, from where it was
    if (resp.data.complete) { await completeUpload(up, resp.data.evidence_id); return; }
    up.received = resp.data.received;
    await uploadPut(up);
  }
}

// One pass: actions, then files. Resolves to false when there was no connection.
export async function syncOnce(api, config) {
  const { urls, user, chunk_bytes: chunkBytes } = config;
  try {
    const waiting = (await queueItems()).filter((i) => i.state === "waiting" && i.user === user);
    if (waiting.length) await sendActions(api, urls, waiting);
    const reports = new Map((await queueItems()).map((i) => [i.client_id, i]));
    for (const up of await uploadItems()) {
      if (up.state === "waiting" && up.user === user) await sendUpload(api, urls, up, reports, chunkBytes);
    }
    return true;
  } catch (e) {
    if (e instanceof Offline) return false;
    throw e;
  }
}
