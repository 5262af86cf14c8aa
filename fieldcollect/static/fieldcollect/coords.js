// Coordinates in China, in the browser: WGS-84 <-> GCJ-02 <-> BD-09.
//
// The same published algorithm as fieldcollect/optimisation/coords.py (see its header), with the same
// constants, the same bounding box of China (no offset outside it) and the same iterative inverse; a
// browser test checks that both give the same numbers. Positions are [lat, lon] in degrees.
//
//   import { fromWgs84, toWgs84, SYSTEMS } from "./coords.js";
//   const [lat, lon] = fromWgs84(31.2304, 121.4737, "gcj02");

export const SYSTEMS = Object.freeze(["wgs84", "gcj02", "bd09"]);

const A = 6378245.0;
const EE = 0.00669342162296594323;
const X_PI = Math.PI * 3000.0 / 180.0;
const CHINA_LON = [73.66, 135.05];
const CHINA_LAT = [3.86, 53.55];
const TOLERANCE_DEG = 1e-10;
const MAX_ITERATIONS = 50;

function systemOf(value) {
  const name = String(value).trim().toLowerCase().replace(/[-_]/g, "");
  if (!SYSTEMS.includes(name)) throw new RangeError(`unknown coordinate system ${JSON.stringify(value)}`);
  return name;
}

export function inChina(lat, lon) {
  return CHINA_LON[0] < lon && lon < CHINA_LON[1] && CHINA_LAT[0] < lat && lat < CHINA_LAT[1];
}

function delta(lat, lon) {
  const x = lon - 105.0, y = lat - 35.0, pi = Math.PI;
  const common = (20.0 * Math.sin(6.0 * x * pi) + 20.0 * Math.sin(2.0 * x * pi)) * 2.0 / 3.0;
  let dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + common;
  dlat += (20.0 * Math.sin(y * pi) + 40.0 * Math.sin(y / 3.0 * pi)) * 2.0 / 3.0;
  dlat += (160.0 * Math.sin(y / 12.0 * pi) + 320.0 * Math.sin(y * pi / 30.0)) * 2.0 / 3.0;
  let dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + common;
  dlon += (20.0 * Math.sin(x * pi) + 40.0 * Math.sin(x / 3.0 * pi)) * 2.0 / 3.0;
  dlon += (150.0 * Math.sin(x / 12.0 * pi) + 300.0 * Math.sin(x / 30.0 * pi)) * 2.0 / 3.0;
  const rad = lat / 180.0 * pi;
  const magic = 1.0 - EE * Math.sin(rad) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  dlat = dlat * 180.0 / ((A * (1.0 - EE)) / (magic * sqrtMagic) * pi);
  dlon = dlon * 180.0 / (A / sqrtMagic * Math.cos(rad) * pi);
  return [dlat, dlon];
}

function wgs84ToGcj02(lat, lon) {
  if (!inChina(lat, lon)) return [lat, lon];
  const [dlat, dlon] = delta(lat, lon);
  return [lat + dlat, lon + dlon];
}

function gcj02ToBd09(lat, lon) {
  const z = Math.hypot(lon, lat) + 0.00002 * Math.sin(lat * X_PI);
  const theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * X_PI);
  return [z * Math.sin(theta) + 0.006, z * Math.cos(theta) + 0.0065];
}

function invert(forward, lat, lon) {
  let gLat = lat, gLon = lon;
  for (let i = 0; i < MAX_ITERATIONS; i++) {
    const [fLat, fLon] = forward(gLat, gLon);
    const eLat = fLat - lat, eLon = fLon - lon;
    gLat -= eLat; gLon -= eLon;
    if (Math.abs(eLat) < TOLERANCE_DEG && Math.abs(eLon) < TOLERANCE_DEG) break;
  }
  return [gLat, gLon];
}

/** The WGS-84 position (lat, lon) expressed in `system` ("wgs84", "gcj02" or "bd09"). */
export function fromWgs84(lat, lon, system) {
  const target = systemOf(system);
  if (target === "wgs84") return [lat, lon];
  const gcj = wgs84ToGcj02(lat, lon);
  if (target === "gcj02") return gcj;
  if (!inChina(lat, lon)) return [lat, lon];
  return gcj02ToBd09(gcj[0], gcj[1]);
}

/** The position (lat, lon) given in `system`, in WGS-84. */
export function toWgs84(lat, lon, system) {
  const source = systemOf(system);
  if (source === "wgs84" || !inChina(lat, lon)) return [lat, lon];
  const gcj = source === "gcj02" ? [lat, lon] : invert(gcj02ToBd09, lat, lon);
  if (!inChina(gcj[0], gcj[1])) return gcj;
  return invert(wgs84ToGcj02, gcj[0], gcj[1]);
}
