// A Leaflet map of field points on the configured tile provider, converted to the provider's system.
//
// Stable interface (the agency manager's map, the collector's day plan and the phone app call it):
//
//   import { mountMap } from "/static/fieldcollect/fieldmap.js";
//   const handle = mountMap(element, {
//     points: [{lat, lon, label, title, href, css}],    // WGS-84, as stored; label: a few characters
//     tiles: {url, attribution, system, subdomains, maxZoom},  // the page's tile JSON; null: no map
//     routes: [{points: [[lat, lon], ...], colour, title}],   // optional, WGS-84
//     onFallback: () => { ... },                          // optional: the tiles could not be loaded
//   });
//
// Returns null when there is nothing to draw on (no tile provider, or the browser is offline): the
// caller keeps its SVG map. Otherwise returns {map, destroy()} (map: the Leaflet map). When the tiles
// fail to load (no connection, provider down) the map is removed, `element` gets data-state="fallback",
// a "fieldmap:fallback" event is dispatched on it and onFallback is called, so the caller can show its
// SVG map again. Positions are converted from WGS-84 to tiles.system ("wgs84" or "gcj02") by
// ./coords.js, the same algorithm as the server's. Leaflet's stylesheet is linked on first use.
// `element` needs a height (CSS).

import * as L from "./vendor/leaflet/leaflet-src.esm.js";
import { fromWgs84 } from "./coords.js";

const CSS_URL = new URL("./vendor/leaflet/leaflet.css", import.meta.url).href;

function ensureCss() {
  if ([...document.querySelectorAll("link[rel=stylesheet]")].some((l) => l.href === CSS_URL)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = CSS_URL;
  document.head.appendChild(link);
}

function markerIcon(point) {
  const span = document.createElement("span");
  span.className = "fieldmap-marker " + (point.css || "stop");
  span.textContent = point.label || "";
  return L.divIcon({ html: span, className: "fieldmap-icon", iconSize: [22, 22], iconAnchor: [11, 11] });
}

function popup(point) {
  const box = document.createElement("div");
  const text = point.title || point.label || "";
  if (point.href) {
    const a = document.createElement("a");
    a.href = point.href;
    a.textContent = text || point.href;
    box.appendChild(a);
  } else {
    box.textContent = text;
  }
  return box;
}

export function mountMap(element, { points = [], tiles = null, routes = [], onFallback = null } = {}) {
  if (!tiles || !tiles.url || (typeof navigator !== "undefined" && navigator.onLine === false)) return null;
  ensureCss();
  const system = tiles.system || "wgs84";
  const to = (lat, lon) => fromWgs84(lat, lon, system);
  element.dataset.state = "leaflet";
  const map = L.map(element, { zoomControl: true, attributionControl: true });
  const layer = L.tileLayer(tiles.url, {
    attribution: tiles.attribution || "",
    subdomains: tiles.subdomains || "abc",
    maxZoom: tiles.maxZoom || 18,
  }).addTo(map);
  const bounds = [];
  for (const r of routes) {
    const line = r.points.map(([lat, lon]) => to(lat, lon));
    if (line.length > 1) L.polyline(line, { color: r.colour || "#1f6feb", weight: 3 }).bindTooltip(r.title || "").addTo(map);
  }
  for (const p of points) {
    const at = to(p.lat, p.lon);
    bounds.push(at);
    L.marker(at, { icon: markerIcon(p), title: p.title || p.label || "", keyboard: true })
      .bindPopup(popup(p)).addTo(map);
  }
  if (bounds.length) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 });
  else map.setView([35.0, 105.0], 4);

  let loaded = 0;
  let failed = 0;
  let done = false;
  const fallback = () => {
    if (done) return;
    done = true;
    map.remove();
    element.dataset.state = "fallback";
    element.dispatchEvent(new CustomEvent("fieldmap:fallback"));
    if (onFallback) onFallback();
  };
  layer.on("tileload", () => { loaded += 1; });
  layer.on("tileerror", () => {
    failed += 1;
    if (loaded === 0 && failed >= 4) fallback();
  });
  // every visible tile has been tried: none loaded means no connection to the provider
  layer.on("load", () => { if (loaded === 0 && failed > 0) fallback(); });
  const offline = () => { if (loaded === 0) fallback(); };
  window.addEventListener("offline", offline, { once: true });
  return {
    map,
    destroy() { window.removeEventListener("offline", offline); if (!done) { done = true; map.remove(); } },
  };
}
