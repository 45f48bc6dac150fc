/** Jobs: the list with live progress (polled while the view is open), pipeline start, cancel,
 * and each job's message or error. Rows are updated in place so clicks are never lost. */

import { getJson, postJson } from "./api.js";
import { byId, clearError, el, errorText, showError } from "./dom.js";
import { ago, elapsed, percent, shortId } from "./format.js";
import { checkFields, loadLimits, showFormError, showLimits } from "./limits.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const ACTIVE_POLL_MS = 1000;
const IDLE_POLL_MS = 4000;
const rows = new Map();
let timer = null;
let polling = false;

export function initJobs() {
  byId("pipeline-form").addEventListener("submit", (event) => {
    event.preventDefault();
    startPipeline();
  });
}

/** The form's limits and text models, from the server (once per page load). */
export async function prepareJobsForm() {
  const form = byId("pipeline-form");
  if (form.dataset.limits === "shown") return;
  try {
    const limits = await showLimits(form);
    const select = byId("pipe-text-model");
    const { default: chosen, allowed } = limits.text_models;
    select.replaceChildren(...allowed.map((name) => el("option", { value: name }, name === chosen ? `${name} (default)` : name)));
    select.value = chosen;
  } catch (error) {
    showFormError(form, byId("pipeline-error"), `Cannot read the server's limits: ${errorText(error)}`);
  }
}

export function startJobsPolling() {
  polling = true;
  clearTimeout(timer);
  tick();
}

export function stopJobsPolling() {
  polling = false;
  clearTimeout(timer);
}

async function tick() {
  let active = false;
  try {
    active = await refresh();
  } finally {
    clearTimeout(timer);
    if (polling) timer = setTimeout(tick, active ? ACTIVE_POLL_MS : IDLE_POLL_MS);
  }
}

/** Fetch and draw the jobs; resolves true while any is unfinished. */
async function refresh() {
  const errorBox = byId("jobs-error");
  try {
    const page = await getJson("v1/jobs?limit=200");
    clearError(errorBox);
    render(page.items, page.total);
    return page.items.some((job) => !TERMINAL.has(job.status));
  } catch (error) {
    showError(errorBox, error);
    return false;
  }
}

function optionalInt(id) {
  const value = byId(id).value.trim();
  return value === "" ? undefined : Number(value);
}

export function pipelineBody() {
  const seed = optionalInt("pipe-seed");
  return {
    kind: "pipeline",
    params: {
      generate: { num_base: optionalInt("pipe-num-base"), augment: byId("pipe-augment").checked, seed },
      embed: textModel(),
      train: {
        preset: byId("pipe-preset").value,
        epochs: optionalInt("pipe-epochs"),
        batch_size: optionalInt("pipe-batch-size"),
        accumulate: optionalInt("pipe-accumulate"),
        max_train_samples: optionalInt("pipe-train-samples"),
        max_val_samples: optionalInt("pipe-val-samples"),
        lr: Number(byId("pipe-lr").value),
        seed,
      },
    },
  };
}

function textModel() {
  const select = byId("pipe-text-model");
  return select.value ? { model: select.value } : {};
}

/** Check the fields against the server's limits, then start; any error stays on the form
 * until the user changes an input (the jobs list refreshing does not clear it). */
async function startPipeline() {
  const form = byId("pipeline-form");
  const button = byId("pipeline-button");
  const status = byId("pipeline-status");
  const errorBox = byId("pipeline-error");
  button.disabled = true;
  clearError(errorBox);
  status.textContent = "";
  try {
    await loadLimits();
    const problems = await checkFields(form);
    if (problems.length) {
      showFormError(form, errorBox, `Please fix: ${problems.join("; ")}`);
      return;
    }
    const job = await postJson("v1/jobs", pipelineBody());
    status.textContent = `Started pipeline ${shortId(job.id)}`;
    rows.delete(job.id);
    await refresh();
    rows.get(job.id)?.classList.add("fresh");
  } catch (error) {
    showFormError(form, errorBox, errorText(error));
  } finally {
    button.disabled = false;
  }
  if (polling) startJobsPolling();
}

async function cancel(jobId, button) {
  button.disabled = true;
  try {
    await postJson(`v1/jobs/${jobId}/cancel`);
  } catch (error) {
    showError(byId("jobs-error"), error);
  }
  await refresh();
}

/** Parents first (newest first), each followed by its steps in order, indented. */
function ordered(jobs) {
  const ids = new Set(jobs.map((job) => job.id));
  const children = new Map();
  for (const job of jobs) {
    if (job.parent_id && ids.has(job.parent_id)) {
      if (!children.has(job.parent_id)) children.set(job.parent_id, []);
      children.get(job.parent_id).push(job);
    }
  }
  const out = [];
  const visit = (job, depth) => {
    out.push([job, depth]);
    const kids = (children.get(job.id) || []).sort((a, b) => (a.step ?? 0) - (b.step ?? 0));
    for (const kid of kids) visit(kid, depth + 1);
  };
  for (const job of jobs) if (!job.parent_id || !ids.has(job.parent_id)) visit(job, 0);
  return out;
}

function render(jobs, total) {
  const body = byId("jobs-table").querySelector("tbody");
  const seen = new Set();
  ordered(jobs).forEach(([job, depth], index) => {
    seen.add(job.id);
    if (!rows.has(job.id)) rows.set(job.id, createRow(job.id));
    const row = rows.get(job.id);
    updateRow(row, job, depth);
    if (body.children[index] !== row) body.insertBefore(row, body.children[index] || null);
  });
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.remove();
      rows.delete(id);
    }
  }
  byId("jobs-empty").hidden = jobs.length > 0;
  const running = jobs.filter((job) => job.status === "running").length;
  const queued = jobs.filter((job) => job.status === "queued").length;
  byId("jobs-summary").textContent = `${total} job(s) · ${running} running · ${queued} queued`;
}

function createRow(jobId) {
  const cancelButton = el("button", { type: "button", class: "small danger cancel" }, "Cancel");
  cancelButton.addEventListener("click", () => cancel(jobId, cancelButton));
  const details = el("details", { class: "job-details" }, el("summary", {}, "details"), el("pre"));
  return el(
    "tr",
    { dataset: { jobId } },
    el("td", { class: "job-name" }, el("span", { class: "kind" }), " ", el("code", {}, shortId(jobId))),
    el("td", {}, el("span", { class: "status" })),
    el("td", { class: "progress-cell" }, el("progress", { max: "1" }), el("span", { class: "percent" })),
    el("td", { class: "message-cell" }, el("div", { class: "message" }), el("div", { class: "links" }), details),
    el("td", { class: "when" }),
    el("td", { class: "row-actions" }, cancelButton),
  );
}

function updateRow(row, job, depth) {
  row.dataset.status = job.status;
  const [nameCell, statusCell, progressCell, messageCell, whenCell, actionsCell] = row.cells;
  nameCell.style.paddingLeft = `${0.75 + depth * 1.5}rem`;
  nameCell.querySelector(".kind").textContent = depth > 0 ? `↳ ${job.kind}` : job.kind;
  const status = statusCell.querySelector(".status");
  status.textContent = job.status;
  status.className = `status status-${job.status}`;
  progressCell.querySelector("progress").value = job.progress;
  progressCell.querySelector(".percent").textContent = percent(job.progress);

  const message = messageCell.querySelector(".message");
  message.textContent = job.status === "failed" && job.error ? job.error : job.message;
  message.classList.toggle("error-text", job.status === "failed");
  messageCell.querySelector(".links").replaceChildren(...resultLinks(job));
  messageCell.querySelector("pre").textContent = JSON.stringify(
    { params: job.params, result: job.result, error: job.error, details: job.details, attempts: job.attempts },
    null,
    2,
  );

  whenCell.textContent = job.started_at
    ? `${ago(job.started_at)} · ${elapsed(job.started_at, job.finished_at)}`
    : `queued ${ago(job.created_at)}`;
  const cancelButton = actionsCell.querySelector(".cancel");
  cancelButton.hidden = TERMINAL.has(job.status) || Boolean(job.parent_id);
  cancelButton.disabled = job.cancel_requested;
  cancelButton.textContent = job.cancel_requested ? "Cancelling…" : "Cancel";
}

function resultLinks(job) {
  const checkpointId = job.result?.checkpoint_id;
  if (job.status !== "succeeded" || !checkpointId || job.parent_id) return [];
  return [el("a", { href: `#checkpoints/${checkpointId}` }, `checkpoint ${shortId(checkpointId)}`)];
}
