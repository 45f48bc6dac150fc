/** Checkpoints: the list with headline metrics; one checkpoint's metrics, loss curve (fetched
 * with the API key, shown from a blob) and evaluation table when its metadata has one. */

import { getJson, postJson, request } from "./api.js";
import { byId, clearError, el, errorText, showError } from "./dom.js";
import { display, evaluationView } from "./evaluation.js";
import { ago, number, percent, shortId } from "./format.js";
import { checkFields, showFormError, showLimits } from "./limits.js";
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
    evaluatePanel(),
    evaluation === undefined || evaluation === null
      ? null
      : el("div", { class: "evaluation" }, el("h3", {}, "Evaluation"), evaluationView(evaluation)),
  );
  detail.hidden = false;
  loadCurve(checkpoint.id, image, curveNote);
  if (evaluatingCheckpoint !== checkpoint.id) evaluating = null; // another checkpoint: stop following
  prepareEvaluate(checkpoint);
}

// -- evaluate from the page ----------------------------------------------------------------
let evaluating = null; // the evaluate job being followed
let evaluatingCheckpoint = null; // and the checkpoint it scores

function numberField(label, id, value, limit) {
  return el(
    "label",
    { class: "field" },
    label,
    el("input", { id, type: "number", step: "1", value: String(value), dataset: { limit } }),
  );
}

function evaluatePanel() {
  return el(
    "form",
    { id: "evaluate-form", class: "evaluate", novalidate: true },
    el("h3", {}, "Evaluate ", el("span", { class: "muted", id: "evaluate-split" }, "on its dataset's test split")),
    el(
      "div",
      { class: "field-row" },
      numberField("Repeats", "eval-repeats", 2, "evaluate_repeats"),
      numberField("Pool size", "eval-pool-size", 32, "evaluate_pool_size"),
      numberField("Evaluator epochs", "eval-epochs", 4, "evaluate_epochs"),
    ),
    el(
      "div",
      { class: "actions" },
      el("button", { id: "evaluate-button", type: "submit" }, "Evaluate"),
      el("span", { id: "evaluate-status", class: "muted", "aria-live": "polite" }),
    ),
    el("p", { id: "evaluate-error", class: "error", role: "alert", hidden: true }),
  );
}

/** Fit the settings to the test split (the pool is at most its prompts), then wire the button. */
async function prepareEvaluate(checkpoint) {
  const form = byId("evaluate-form");
  const button = byId("evaluate-button");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    startEvaluation(checkpoint);
  });
  let prompts = null;
  try {
    await showLimits(form);
    if (checkpoint.dataset_id) {
      const dataset = await getJson(`v1/datasets/${encodeURIComponent(checkpoint.dataset_id)}`);
      prompts = testPrompts(dataset.manifest || {});
    }
  } catch (error) {
    showFormError(form, byId("evaluate-error"), errorText(error));
    return;
  }
  if (prompts === null) {
    byId("evaluate-split").textContent = "(its dataset is unknown)";
    button.disabled = true;
    return;
  }
  const pool = byId("eval-pool-size");
  pool.value = String(Math.min(32, prompts));
  pool.max = String(prompts);
  pool.closest("label").querySelector(".limit").textContent = ` (2–${prompts})`;
  byId("evaluate-split").textContent = `on ${prompts} test prompt(s) of dataset ${shortId(checkpoint.dataset_id)}`;
  form.dataset.testPrompts = String(prompts);
  if (prompts < 2) {
    button.disabled = true;
    byId("evaluate-status").textContent = "Too few test prompts: run a pipeline with more base scenes.";
  }
}

function testPrompts(manifest) {
  if (typeof manifest.test_prompts === "number") return manifest.test_prompts;
  const test = manifest.splits?.test;
  return typeof test === "number" ? Math.floor(test / 5) : null; // 4 augmented copies per scene
}

async function startEvaluation(checkpoint) {
  const form = byId("evaluate-form");
  const errorBox = byId("evaluate-error");
  const status = byId("evaluate-status");
  const button = byId("evaluate-button");
  clearError(errorBox);
  const problems = await checkFields(form);
  const prompts = Number(form.dataset.testPrompts);
  const pool = Number(byId("eval-pool-size").value);
  if (pool > prompts) problems.push(`Pool size: ${pool} is more than the ${prompts} test prompts`);
  if (problems.length) {
    showFormError(form, errorBox, `Please fix: ${problems.join("; ")}`);
    return;
  }
  button.disabled = true;
  const params = {
    checkpoint: checkpoint.id,
    repeats: Number(byId("eval-repeats").value),
    pool_size: pool,
    evaluator_epochs: Number(byId("eval-epochs").value),
    diversity_pairs: Math.max(1, Math.min(300, prompts * 4)),
    mm_prompts: Math.min(10, prompts),
    mm_generations: 3,
    mm_pairs: 2,
  };
  let job;
  try {
    job = await postJson("v1/jobs", { kind: "evaluate", params });
  } catch (error) {
    button.disabled = false;
    showFormError(form, errorBox, errorText(error));
    return;
  }
  evaluating = job.id;
  evaluatingCheckpoint = checkpoint.id;
  status.textContent = `Evaluation ${shortId(job.id)} queued…`;
  followEvaluation(job.id, checkpoint.id);
}

async function followEvaluation(jobId, checkpointId) {
  while (evaluating === jobId) {
    let job;
    try {
      job = await getJson(`v1/jobs/${jobId}`);
    } catch (error) {
      byId("evaluate-status").textContent = errorText(error);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      continue;
    }
    const status = byId("evaluate-status");
    if (!status || evaluating !== jobId) return;
    if (job.status === "succeeded") {
      evaluating = null;
      await showCheckpoints(checkpointId);
      const after = byId("evaluate-status");
      if (after) after.textContent = `Evaluation ${shortId(jobId)} done`;
      return;
    }
    if (job.status === "failed" || job.status === "cancelled") {
      evaluating = null;
      byId("evaluate-button").disabled = false;
      status.textContent = "";
      showFormError(byId("evaluate-form"), byId("evaluate-error"), `Evaluation ${job.status}: ${job.error ?? job.message}`);
      return;
    }
    status.textContent = `Evaluating ${shortId(jobId)}… ${percent(job.progress)} ${job.message}`;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
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
    note.textContent = error.status === 404 ? "No loss curve yet: the run has not finished an epoch." : errorText(error);
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

