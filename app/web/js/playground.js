/** Playground: prompt -> `POST /v1/animate` twice with the same inputs (MP4 for the player,
 * `format=json` for the action/expression timeline), checkpoint picker, downloads, and what
 * the prompt was understood as (the `X-StickGen-Understood` header), word by word. */

import { getJson, request } from "./api.js";
import { byId, clearError, el, errorText } from "./dom.js";
import { number, shortId, slug } from "./format.js";
import { checkFields, showFormError, showLimits } from "./limits.js";
import { renderTimeline } from "./timeline.js";
import { renderUnderstanding } from "./understanding.js";

const ENGINE_HEADER = "X-StickGen-Engine";
const UNDERSTOOD_HEADER = "X-StickGen-Understood";
const urls = { mp4: null, json: null };
let busy = false;
let latest = 0; // number of the newest request: older plans must not replace its timeline

export function initPlayground() {
  byId("animate-form").addEventListener("submit", (event) => {
    event.preventDefault();
    animate();
  });
}

/** Show the server's limits beside the prompt and duration (once per page load). */
export function preparePlaygroundForm() {
  const form = byId("animate-form");
  if (form.dataset.limits !== "shown") showLimits(form).catch(() => {}); // checked again on submit
}

/** Fill the engine picker with the procedural engine and every checkpoint. */
export async function loadCheckpointChoices() {
  const select = byId("checkpoint");
  const page = await getJson("v1/checkpoints?limit=200");
  const chosen = select.value;
  const options = [el("option", { value: "" }, "Procedural engine (no checkpoint)")];
  for (const checkpoint of page.items) options.push(el("option", { value: checkpoint.id }, checkpointLabel(checkpoint)));
  select.replaceChildren(...options);
  if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
  select.dataset.loaded = "true";
}

/** Pick `checkpointId` in the engine picker and switch to the playground. */
export async function useCheckpoint(checkpointId) {
  location.hash = "#playground";
  await loadCheckpointChoices();
  byId("checkpoint").value = checkpointId;
}

export function checkpointLabel(checkpoint) {
  const metrics = checkpoint.metrics || {};
  const preset = metrics.preset ? `${metrics.preset} · ` : "";
  return `${preset}${checkpoint.kind} · epoch ${checkpoint.epoch} · val ${number(metrics.val_loss, 3)} · ${shortId(checkpoint.id)}`;
}

function readForm() {
  const body = { prompt: byId("prompt").value };
  const duration = byId("duration").value.trim();
  if (duration !== "") body.duration = Number(duration);
  const seed = byId("seed");
  if (seed.value.trim() === "") seed.value = String(Math.floor(Math.random() * 2 ** 31));
  body.seed = Number(seed.value);
  const checkpoint = byId("checkpoint").value;
  if (checkpoint) body.checkpoint = checkpoint;
  const [width, height] = byId("size").value.split("x").map(Number);
  return { ...body, width, height };
}

async function animate() {
  if (busy) return;
  busy = true;
  const button = byId("animate-button");
  const status = byId("animate-status");
  const errorBox = byId("animate-error");
  const form = byId("animate-form");
  button.disabled = true;
  clearError(errorBox);
  status.textContent = "";
  let problems = [];
  try {
    problems = await checkFields(form);
  } catch {
    // the limits are unknown: the server checks the request anyway
  }
  if (problems.length) {
    showFormError(form, errorBox, `Please fix: ${problems.join("; ")}`);
    byId("result").hidden = true;
    busy = false;
    button.disabled = false;
    return;
  }
  status.textContent = "Rendering…";
  const body = readForm();
  const ticket = ++latest;
  const started = performance.now();
  const video = request("v1/animate", { method: "POST", json: body, accept: "video/mp4" });
  const plan = request("v1/animate", { method: "POST", json: { ...body, format: "json" } }).then((r) => r.json());
  plan.catch(() => {}); // reported below, after the video
  try {
    const response = await video;
    showVideo(await response.blob(), response.headers.get(ENGINE_HEADER), body);
    showUnderstanding(response.headers.get(UNDERSTOOD_HEADER), body.prompt);
    status.textContent = `Rendered in ${((performance.now() - started) / 1000).toFixed(1)} s`;
  } catch (error) {
    status.textContent = "";
    byId("result").hidden = true;
    showFormError(form, errorBox, errorText(error));
    busy = false;
    button.disabled = false;
    return;
  }
  busy = false;
  button.disabled = false;
  const timeline = byId("timeline");
  try {
    const result = await plan;
    if (ticket === latest) showPlan(result, body);
  } catch (error) {
    if (ticket === latest) timeline.replaceChildren(el("p", { class: "error" }, `Timeline unavailable: ${errorText(error)}`));
  }
}

function showVideo(blob, engine, body) {
  replaceUrl("mp4", blob);
  const video = byId("video");
  video.src = urls.mp4;
  video.dataset.engine = engine || "";
  video.play().catch(() => {}); // muted autoplay; a refusal just leaves the play button
  const link = byId("download-mp4");
  link.href = urls.mp4;
  link.download = `stickgen-${slug(body.prompt)}-seed${body.seed}.mp4`;
  byId("download-json").hidden = true;
  byId("timeline").replaceChildren(el("p", { class: "muted" }, "Loading the timeline…"));
  const engineName = engine === "model" ? "Learned model" : engine === "procedural" ? "Procedural engine" : "Engine unknown";
  byId("result-summary").replaceChildren(
    el("span", { class: `engine engine-${engine || "unknown"}` }, engineName),
    ` ${body.width} × ${body.height}`,
  );
  byId("result").hidden = false;
}

/** The parse report under the prompt, and a notice when nothing was understood. */
function showUnderstanding(header, prompt) {
  let report = null;
  try {
    report = header ? JSON.parse(decodeURIComponent(header)) : null;
  } catch {
    report = null;
  }
  renderUnderstanding(byId("understanding"), byId("understood-notice"), report, prompt);
}

function showPlan(plan, body) {
  replaceUrl("json", new Blob([JSON.stringify(plan)], { type: "application/json" }));
  const link = byId("download-json");
  link.href = urls.json;
  link.download = `stickgen-${slug(body.prompt)}-seed${body.seed}.json`;
  link.hidden = false;
  byId("result-summary").append(` · ${number(plan.duration, 1)} s · ${plan.frames} frames at ${plan.fps} fps`);
  renderTimeline(byId("timeline"), plan, byId("video"));
}

function replaceUrl(kind, blob) {
  if (urls[kind]) URL.revokeObjectURL(urls[kind]);
  urls[kind] = URL.createObjectURL(blob);
}
