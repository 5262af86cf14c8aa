// What the phone keeps (IndexedDB through the vendored idb library): today's stops, the queue of
// actions made on the phone (each with a client-made id), the evidence files waiting to be uploaded,
// the audio chunks of the visit being recorded, and the phone's settings.
import { openDB } from "../vendor/idb/idb.js";

const NAME = "fieldcollect-app";

export const dbp = openDB(NAME, 1, {
  upgrade(db) {
    db.createObjectStore("kv");
    db.createObjectStore("queue", { keyPath: "client_id" }).createIndex("seq", "seq");
    db.createObjectStore("uploads", { keyPath: "client_id" }).createIndex("seq", "seq");
    db.createObjectStore("chunks", { autoIncrement: true }).createIndex("segment", "segment");
  },
});

let lastSeq = 0;
// a number that orders what was made on this phone (actions are applied in this order)
export function nextSeq() {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  return lastSeq;
}

// ISO 8601 with the phone's offset, e.g. 2026-12-06T10:15:00.000+08:00
export function isoLocal(d = new Date()) {
  const pad = (n, w = 2) => String(Math.abs(n)).padStart(w, "0");
  const off = -d.getTimezoneOffset();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:` +
    `${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${off >= 0 ? "+" : "-"}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

export async function kvGet(key) { return (await dbp).get("kv", key); }
export async function kvSet(key, value) { return (await dbp).put("kv", value, key); }
export async function kvDelete(key) { return (await dbp).delete("kv", key); }

// ---- the queue of actions
export async function enqueue(user, kind, caseId, payload, clientId = crypto.randomUUID()) {
  const item = { client_id: clientId, seq: nextSeq(), user, kind, case_id: caseId, at: isoLocal(), payload,
    state: "waiting", code: null, message: null, id: null, server_status: null };
  await (await dbp).put("queue", item);
  return item;
}
export async function queueItems() { return (await dbp).getAllFromIndex("queue", "seq"); }
export async function queueGet(clientId) { return (await dbp).get("queue", clientId); }
export async function queuePut(item) { return (await dbp).put("queue", item); }
export async function queueDelete(clientId) { return (await dbp).delete("queue", clientId); }

// ---- evidence files (photo, audio) waiting to be uploaded in chunks
export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
export async function addUpload(user, reportClientId, caseId, kind, blob, clientId = crypto.randomUUID()) {
  const item = { client_id: clientId, seq: nextSeq(), user, report_client_id: reportClientId,
    case_id: caseId, kind, content_type: blob.type || "application/octet-stream", size: blob.size,
    sha256: await sha256Hex(blob), blob, upload_id: null, received: 0, state: "waiting", code: null,
    message: null, evidence_id: null };
  await (await dbp).put("uploads", item);
  return item;
}
export async function uploadItems() { return (await dbp).getAllFromIndex("uploads", "seq"); }
export async function uploadPut(item) { return (await dbp).put("uploads", item); }
export async function uploadDelete(clientId) { return (await dbp).delete("uploads", clientId); }

// ---- audio chunks of a recording segment (kept as they come: a closed page loses nothing said before)
export async function chunkAdd(segment, blob) { return (await dbp).add("chunks", { segment, blob }); }
export async function chunksOf(segment) {
  const db = await dbp;
  const keys = await db.getAllKeysFromIndex("chunks", "segment", segment);
  const rows = await db.getAllFromIndex("chunks", "segment", segment);
  return { keys, blobs: rows.map((r) => r.blob) };
}
export async function chunksDelete(keys) {
  const tx = (await dbp).transaction("chunks", "readwrite");
  await Promise.all([...keys.map((k) => tx.store.delete(k)), tx.done]);
}

// ---- personal data: today's stops, what was sent, the cached page
export async function wipePersonalData() {
  const db = await dbp;
  await db.delete("kv", "today");
  for (const item of await db.getAll("queue")) if (item.state === "sent") await db.delete("queue", item.client_id);
  for (const item of await db.getAll("uploads")) if (item.state === "sent") await db.delete("uploads", item.client_id);
  if (self.caches) await caches.delete("fc-app-page");
}

// actions and files recorded on the phone and not yet accepted or refused by the server
export async function unsentCount() {
  const db = await dbp;
  const waiting = (rows) => rows.filter((r) => r.state === "waiting").length;
  const segments = new Set((await db.getAll("chunks")).map((c) => c.segment)).size;
  return waiting(await db.getAll("queue")) + waiting(await db.getAll("uploads")) + segments;
}
