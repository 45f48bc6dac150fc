/** Formatting of numbers, ids, names and times for display. */

export function number(value, digits = 4) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)) return value.toExponential(2);
  return value.toFixed(digits);
}

export const shortId = (id) => (id ? id.slice(0, 8) : "–");

/** `walk_backward` -> `walk backward`. */
export const humanize = (name) => String(name).replaceAll("_", " ");

export function percent(fraction) {
  return `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
}

/** "12 s ago", "3 min ago", or the date for older times. */
export function ago(iso) {
  if (!iso) return "–";
  const seconds = (Date.now() - Date.parse(iso)) / 1000;
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** Wall time between two ISO timestamps (or until now), e.g. "1 min 05 s". */
export function elapsed(startIso, endIso) {
  if (!startIso) return "";
  const end = endIso ? Date.parse(endIso) : Date.now();
  const total = Math.max(0, Math.round((end - Date.parse(startIso)) / 1000));
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  return `${minutes} min ${String(total % 60).padStart(2, "0")} s`;
}

/** A file-name-safe slug of a prompt. */
export function slug(text, maxLength = 40) {
  const cleaned = text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return cleaned.slice(0, maxLength).replace(/-+$/, "") || "animation";
}
