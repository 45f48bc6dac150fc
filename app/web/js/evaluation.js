/** A checkpoint's evaluation as a table. The evaluation protocol's result (`metrics`: the
 * columns with their direction, `systems`: one row per system with `{mean, ci}` cells) gets a
 * systems x metrics table; any other plain-JSON shape is shown as generically as possible. */

import { el } from "./dom.js";
import { number } from "./format.js";

const ARROWS = { higher: "↑", lower: "↓", "ground truth": "→GT" };

export function evaluationView(evaluation) {
  if (isProtocolResult(evaluation)) return protocolView(evaluation);
  return genericTable(evaluation);
}

function isProtocolResult(value) {
  return isRecord(value) && Array.isArray(value.metrics) && isRecord(value.systems);
}

function protocolView(result) {
  const metrics = result.metrics.filter((metric) => isRecord(metric) && metric.key);
  const systems = Object.entries(result.systems).filter(([, row]) => isRecord(row));
  const header = el(
    "tr",
    {},
    el("th", {}, "System"),
    metrics.map((metric) =>
      el("th", { title: `${metric.key}: ${metric.better} is better` }, `${metric.label ?? metric.key} ${ARROWS[metric.better] ?? ""}`.trim()),
    ),
  );
  const rows = systems.map(([name, row]) =>
    el(
      "tr",
      { dataset: { system: name } },
      el("th", { title: row.kind ?? "" }, name, row.warnings?.length ? " ⚠" : ""),
      metrics.map((metric) => el("td", { class: "num" }, cell(row.metrics?.[metric.key]))),
    ),
  );
  const warnings = [
    ...(result.warnings ?? []),
    ...systems.flatMap(([name, row]) => (row.warnings ?? []).map((warning) => `${name}: ${warning}`)),
  ];
  const dataset = result.dataset;
  return el(
    "div",
    {},
    dataset ? el("p", { class: "muted" }, `${dataset.samples} ${dataset.split ?? ""} prompts, ${dataset.frames} frames each`) : null,
    el("div", { class: "scroll" }, el("table", { class: "data compact", id: "evaluation-table" }, el("thead", {}, header), el("tbody", {}, rows))),
    warnings.length ? el("ul", { class: "warnings" }, warnings.map((warning) => el("li", {}, warning))) : null,
  );
}

/** `{mean, ci}` as "mean ± ci"; a bare number as itself. */
function cell(value) {
  if (isRecord(value) && typeof value.mean === "number") {
    return typeof value.ci === "number" ? `${number(value.mean, 3)} ± ${number(value.ci, 3)}` : number(value.mean, 3);
  }
  return display(value);
}

/** A list of records, or an object of records (one row each), becomes a table with one column
 * per field; any other object becomes key/value rows (nested objects flattened to `a.b`). */
function genericTable(evaluation) {
  if (Array.isArray(evaluation) && evaluation.length && evaluation.every(isRecord)) {
    return recordTable(evaluation.map((record, index) => [String(index + 1), record]));
  }
  if (isRecord(evaluation)) {
    const entries = Object.entries(evaluation);
    if (entries.length && entries.every(([, value]) => isRecord(value) && Object.values(value).every(isScalar))) {
      return recordTable(entries);
    }
    return keyValueTable(flatten(evaluation));
  }
  return keyValueTable([["value", evaluation]]);
}

function recordTable(namedRecords) {
  const columns = [...new Set(namedRecords.flatMap(([, record]) => Object.keys(record)))];
  return el(
    "table",
    { class: "data compact", id: "evaluation-table" },
    el("thead", {}, el("tr", {}, el("th", {}, ""), columns.map((column) => el("th", {}, column)))),
    el(
      "tbody",
      {},
      namedRecords.map(([name, record]) =>
        el("tr", {}, el("th", {}, name), columns.map((column) => el("td", { class: "num" }, display(record[column])))),
      ),
    ),
  );
}

function keyValueTable(rows) {
  return el(
    "table",
    { class: "data compact", id: "evaluation-table" },
    el("tbody", {}, rows.map(([key, value]) => el("tr", {}, el("th", {}, key), el("td", { class: "num" }, display(value))))),
  );
}

function flatten(object, prefix = "") {
  return Object.entries(object).flatMap(([key, value]) =>
    isRecord(value) ? flatten(value, `${prefix}${key}.`) : [[`${prefix}${key}`, value]],
  );
}

/** A value as text: numbers formatted, missing values as "–" (never a literal null), lists
 * and objects as their entries. */
export function display(value) {
  if (typeof value === "number") return number(value);
  if (value === null || value === undefined) return "–";
  if (Array.isArray(value)) return value.length ? value.map(display).join(", ") : "–";
  if (typeof value === "object") {
    const entries = Object.entries(value);
    return entries.length ? entries.map(([key, item]) => `${key}: ${display(item)}`).join(", ") : "–";
  }
  return String(value);
}

const isRecord = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const isScalar = (value) => value === null || typeof value !== "object";
