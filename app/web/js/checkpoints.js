/** Checkpoints: the list with headline metrics; one checkpoint's metrics, loss curve (fetched
 * with the API key, shown from a blob) and evaluation table when its metadata has one. */

import { getJson, request } from "./api.js";
import { byId, clearError, el, errorText, showError } from "./dom.js";
import { display, evaluationView } from "./evaluation.js";
import { ago, number, shortId } from "./format.js";
import { useCheckpoint } from "./playground.js";

const HIDDEN_METRICS = new Set(["history_entry", "evaluation"]);
let curveUrl = null;

/** Load the list; show `selectedId`'s details when given. */
export async function showCheckpoints(selectedId) {
  const errorBox = byId("checkpoints-error");
  let page;
  try {
    page = await getJson("v1/checkpoints?limit=200");
    clearError(errorBox);
  } catch (error) {
    showError(errorBox, error);
    return;
  }
  renderList(page.items, page.total, selectedId);
  const detail = byId("checkpoint-detail");
  const selected = page.items.find((checkpoint) => checkpoint.id === selectedId);
  if (selectedId && !selected) {
    try {
      renderDetail(await getJson(`v1/checkpoints/${encodeURIComponent(selectedId)}`));
    } catch (error) {
      showError(errorBox, error);
      detail.hidden = true;
    }
  } else if (selected) {
    renderDetail(selected);
  } else {
    detail.hidden = true;
  }
}

function renderList(items, total, selectedId) {
  const body = byId("checkpoints-table").querySelector("tbody");
  body.replaceChildren(
    ...items.map((checkpoint) => {
      const metrics = checkpoint.metrics || {};
      return el(
        "tr",
        {
          class: checkpoint.id === selectedId ? "selected clickable" : "clickable",
          dataset: { checkpointId: checkpoint.id },
          onclick: () => {
            location.hash = `#checkpoints/${checkpoint.id}`;
          },
        },
        el("td", {}, el("a", { href: `#checkpoints/${checkpoint.id}` }, el("code", {}, shortId(checkpoint.id)))),
        el("td", {}, checkpoint.kind),
        el("td", { class: "num" }, checkpoint.epoch),
        el("td", { class: "num" }, number(metrics.train_loss)),
        el("td", { class: "num" }, number(metrics.val_loss)),
        el("td", { class: "num" }, number(metrics.val_action_accuracy, 3)),
        el("td", {}, metrics.preset ?? "–"),
        el("td", { class: "when" }, ago(checkpoint.created_at)),
      );
    }),
  );
  byId("checkpoints-empty").hidden = items.length > 0;
  byId("checkpoints-summary").textContent = `${total} checkpoint(s)`;
}

function renderDetail(checkpoint) {
  const detail = byId("checkpoint-detail");
  const metrics = checkpoint.metrics || {};
  const evaluation = checkpoint.evaluation ?? metrics.evaluation;
  const image = el("img", { id: "loss-curve", alt: "Loss per epoch", hidden: true });
  const curveNote = el("p", { class: "muted" }, "Loading the loss curve…");
  detail.replaceChildren(
    el(
      "div",
      { class: "card-head" },
      el("h2", {}, "Checkpoint ", el("code", {}, shortId(checkpoint.id))),
      el(
        "button",
        { type: "button", id: "use-checkpoint", onclick: () => useCheckpoint(checkpoint.id) },
        "Animate with this checkpoint",
      ),
    ),
    el(
      "p",
      { class: "muted" },
      `${checkpoint.kind} · epoch ${checkpoint.epoch} · text model ${checkpoint.embedding_model ?? "–"}`,
      checkpoint.job_id ? ` · train job ${shortId(checkpoint.job_id)}` : "",
    ),
    el(
      "div",
      { class: "detail-grid" },
      el("div", {}, el("h3", {}, "Metrics"), keyValueTable(metricRows(metrics), "metrics-table")),
      el("div", {}, el("h3", {}, "Loss curve"), image, curveNote),
    ),
    evaluation === undefined || evaluation === null
      ? null
      : el("div", { class: "evaluation" }, el("h3", {}, "Evaluation"), evaluationView(evaluation)),
  );
  detail.hidden = false;
  loadCurve(checkpoint.id, image, curveNote);
}

async function loadCurve(checkpointId, image, note) {
  try {
    const response = await request(`v1/checkpoints/${encodeURIComponent(checkpointId)}/loss-curve.png`, {
      accept: "image/png",
    });
    const blob = await response.blob();
    if (curveUrl) URL.revokeObjectURL(curveUrl);
    curveUrl = URL.createObjectURL(blob);
    image.src = curveUrl;
    image.hidden = false;
    note.remove();
  } catch (error) {
    note.textContent = error.status === 404 ? "No loss curve for this run yet." : errorText(error);
  }
}

function metricRows(metrics) {
  const rows = Object.entries(metrics).filter(([key]) => !HIDDEN_METRICS.has(key));
  const latest = metrics.history_entry || {};
  for (const [key, value] of Object.entries(latest)) {
    if (!(key in metrics)) rows.push([key, value]);
  }
  return rows;
}

function keyValueTable(rows, id) {
  return el(
    "table",
    { class: "data compact", id },
    el(
      "tbody",
      {},
      rows.map(([key, value]) => el("tr", {}, el("th", {}, key), el("td", { class: "num" }, display(value)))),
    ),
  );
}

