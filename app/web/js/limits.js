/** The server's limits (`GET /v1/limits`), shown beside the form fields and checked before a
 * request is sent. A field opts in with `data-limit="<name in /v1/limits>"`; its label gets a
 * hint ("1–2,000") and `checkFields` says what is wrong, field by field, in the server's terms. */

import { getJson } from "./api.js";
import { el } from "./dom.js";

let pending = null;

/** The limits, fetched once (a failure is retried on the next call). */
export function loadLimits() {
  if (!pending) pending = getJson("v1/limits").catch((error) => ((pending = null), Promise.reject(error)));
  return pending;
}

const format = (value) => (Number.isInteger(value) ? value.toLocaleString("en-US") : String(value));

function rangeText(range) {
  if (range.min !== null && range.max !== null) return `${format(range.min)}–${format(range.max)}`;
  if (range.min !== null) return `≥ ${format(range.min)}`;
  return range.max !== null ? `≤ ${format(range.max)}` : "";
}

/** Put each field's allowed range in its label and its min/max attributes. */
export async function showLimits(form) {
  const limits = await loadLimits();
  for (const input of form.querySelectorAll("[data-limit]")) {
    const range = limits[input.dataset.limit];
    if (!range || typeof range !== "object") continue;
    if (range.min !== null && input.type === "number") input.min = String(range.min);
    if (range.max !== null && input.type === "number") input.max = String(range.max);
    const label = input.closest("label");
    if (!label) continue;
    let hint = label.querySelector(".limit");
    if (!hint) {
      // the label's text and the hint share one line: the label itself is a grid of rows
      hint = el("span", { class: "limit" });
      const head = el("span", { class: "label-head" });
      label.insertBefore(head, label.firstChild);
      head.append(head.nextSibling, hint);
    }
    const text = rangeText(range);
    hint.textContent = input.tagName === "TEXTAREA" ? ` (up to ${format(range.max)} characters)` : text ? ` (${text})` : "";
  }
  form.dataset.limits = "shown";
  return limits;
}

/** What is wrong with the form's limited fields, as "label: reason" lines (empty: fine).
 * Each bad field is marked `aria-invalid` until it changes. */
export async function checkFields(form) {
  const limits = await loadLimits();
  const problems = [];
  for (const input of form.querySelectorAll("[data-limit]")) {
    const range = limits[input.dataset.limit];
    const reason = range ? fieldProblem(input, range) : null;
    input.toggleAttribute("aria-invalid", Boolean(reason));
    if (reason) problems.push(`${fieldName(input)}: ${reason}`);
  }
  return problems;
}

function fieldName(input) {
  const label = input.closest("label");
  const head = label?.querySelector(".label-head") ?? label;
  const text = head ? [...head.childNodes].find((node) => node.nodeType === Node.TEXT_NODE)?.textContent : "";
  return (text || input.id).trim();
}

function fieldProblem(input, range) {
  const raw = input.value.trim();
  if (input.tagName === "TEXTAREA") {
    if (raw === "") return "write a prompt";
    return range.max !== null && raw.length > range.max ? `${raw.length} characters, the limit is ${format(range.max)}` : null;
  }
  if (raw === "") return input.dataset.optional === "true" ? null : "give a number";
  const value = Number(raw);
  if (!Number.isFinite(value)) return "not a number";
  if (range.integer && !Number.isInteger(value)) return "must be a whole number";
  if (range.min !== null && value < range.min) return `${format(value)} is below the minimum of ${format(range.min)}`;
  if (range.max !== null && value > range.max) return `${format(value)} is above the limit of ${format(range.max)}`;
  return null;
}

/** Show `message` in `box` until the user changes any input of `form`. */
export function showFormError(form, box, message) {
  box.textContent = message;
  box.hidden = false;
  form.addEventListener(
    "input",
    () => {
      box.textContent = "";
      box.hidden = true;
      for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    },
    { once: true },
  );
}
