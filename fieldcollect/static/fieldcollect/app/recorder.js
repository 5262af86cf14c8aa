// The visit is recorded from the check-in to the end of the visit (MediaRecorder). Each chunk is kept in
// IndexedDB as it comes, so a closed page or a dead battery loses nothing said before; a segment ends
// when the visit ends (or the page goes away) and becomes one audio file to upload.
import { chunkAdd, chunksDelete, chunksOf } from "./store.js";

let current = null; // {recorder, stream, segment, done}

export function isRecording() { return current !== null; }

export async function startRecording(segment) {
  if (current) return true;
  if (!navigator.mediaDevices || !window.MediaRecorder) return false;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    return false;
  }
  const recorder = new MediaRecorder(stream);
  const pending = [];
  recorder.addEventListener("dataavailable", (ev) => {
    if (ev.data && ev.data.size) pending.push(chunkAdd(segment, ev.data));
  });
  const done = new Promise((resolve) => recorder.addEventListener("stop", () => {
    Promise.all(pending).then(resolve, resolve);
  }));
  recorder.start(1000);
  current = { recorder, stream, segment, done };
  return true;
}

export async function stopRecording() {
  if (!current) return;
  const { recorder, stream, done } = current;
  current = null;
  if (recorder.state !== "inactive") recorder.stop();
  await done;
  stream.getTracks().forEach((t) => t.stop());
}

// The recorded segment as one file (null when nothing was recorded); its chunks are dropped once the
// caller has stored the file.
export async function takeSegment(segment, type = "audio/webm") {
  const { keys, blobs } = await chunksOf(segment);
  if (!blobs.length) return { blob: null, release: async () => {} };
  const blob = new Blob(blobs, { type: (blobs[0].type || type).split(";")[0] });
  return { blob, release: () => chunksDelete(keys) };
}
