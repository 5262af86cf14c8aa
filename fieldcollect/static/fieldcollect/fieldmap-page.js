// Mounts the Leaflet map on a page's [data-fieldmap] element (see fieldmap.js), reading the points and
// the tile provider from the JSON script tags it names; the page's SVG map (data-fallback) stays shown
// when there is no provider, no connection, or the tiles fail to load.
import { mountMap } from "./fieldmap.js";

for (const el of document.querySelectorAll("[data-fieldmap]")) {
  const read = (id) => JSON.parse(document.getElementById(id)?.textContent || "null");
  const data = read(el.dataset.points) || { points: [], routes: [] };
  const tiles = read(el.dataset.tiles);
  const svg = document.getElementById(el.dataset.fallback);
  el.hidden = false;
  const handle = mountMap(el, {
    points: data.points, routes: data.routes || [], tiles,
    onFallback: () => { el.hidden = true; if (svg) svg.hidden = false; },
  });
  if (handle === null) el.hidden = true;
  else if (svg) svg.hidden = true;
}
