// The offline map of today: the stops in visiting order on a plain SVG (no tiles, no connection needed).
const NS = "http://www.w3.org/2000/svg";

function el(name, attrs = {}, text = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

export function stopsMap(stops, { width = 360, height = 240, onPick = null } = {}) {
  const svg = el("svg", { id: "route-map", viewBox: `0 0 ${width} ${height}`, role: "img", class: "route-map" });
  const placed = stops.filter((s) => Number.isFinite(s.lat) && Number.isFinite(s.lon));
  if (!placed.length) return svg;
  const lats = placed.map((s) => s.lat), lons = placed.map((s) => s.lon);
  const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
  const kx = Math.cos((midLat * Math.PI) / 180); // equirectangular: a degree of longitude is shorter
  const minX = Math.min(...lons) * kx, maxX = Math.max(...lons) * kx;
  const minY = Math.min(...lats), maxY = Math.max(...lats);
  const pad = 24;
  const span = Math.max(maxX - minX, maxY - minY, 1e-4);
  const scale = Math.min((width - 2 * pad) / span, (height - 2 * pad) / span);
  const ox = (width - (maxX - minX) * scale) / 2, oy = (height - (maxY - minY) * scale) / 2;
  const xy = (s) => [ox + (s.lon * kx - minX) * scale, height - (oy + (s.lat - minY) * scale)];
  const ordered = [...placed].sort((a, b) => a.order - b.order);
  svg.append(el("polyline", { class: "route", fill: "none",
    points: ordered.map((s) => xy(s).map((v) => v.toFixed(1)).join(",")).join(" ") }));
  for (const s of ordered) {
    const [x, y] = xy(s);
    const g = el("g", { class: "stop", "data-case": s.case_id, tabindex: 0 });
    g.append(el("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 11 }));
    g.append(el("text", { x: x.toFixed(1), y: (y + 4).toFixed(1), "text-anchor": "middle" }, String(s.order)));
    if (onPick) g.addEventListener("click", () => onPick(s));
    svg.append(g);
  }
  return svg;
}
