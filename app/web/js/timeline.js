/** The animation's derived timeline under the video, per actor: the actions (the procedural
 * engine's, frame by frame; with a checkpoint, the plan the model was given and, in a lane of
 * its own, what its action head predicted, smoothed into segments by the library), the
 * upper-body layer of the plan when it has one ("waves" while walking), facial expressions
 * and speech. A playhead follows the video; clicking a segment seeks to it. */

import { el } from "./dom.js";
import { humanize, number } from "./format.js";
import { EXPRESSION_COLOURS, EXPRESSIONS } from "./vocabulary.js";

const TICK_STEPS = [0.5, 1, 2, 5, 10, 15, 30];
let detachPlayhead = () => {};

/** Runs of equal consecutive values: `[{value, start, end}]` in frames, `end` exclusive. */
export function runs(values) {
  const out = [];
  values.forEach((value, frame) => {
    const last = out[out.length - 1];
    if (last && last.value === value) last.end = frame + 1;
    else out.push({ value, start: frame, end: frame + 1 });
  });
  return out;
}

/** A stable pastel colour per action name. */
export function actionColour(name) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return `hsl(${hash % 360} 62% 78%)`;
}

const expressionName = (id) => EXPRESSIONS[id] ?? `expression ${id}`;

/** Replace `container`'s content with the timeline of `plan` (the API's `format=json` body). */
export function renderTimeline(container, plan, video) {
  detachPlayhead();
  const frames = Math.max(plan.frames, 1);
  const fps = plan.fps;
  const lanes = [["time", axis(frames / fps)]];
  const names = plan.actors.map((actor) => actor.name);
  const firstLanes = new Set();
  plan.actors.forEach((actor, index) => {
    const repeated = names.filter((name) => name === actor.name).length > 1;
    const who = names.length > 1 ? `${actor.name}${repeated ? ` ${index + 1}` : ""} · ` : "";
    if (index > 0) firstLanes.add(lanes.length);
    const sceneActor = plan.scene.actors[index];
    const byModel = plan.engine === "model";
    const actions = byModel
      ? planRuns(sceneActor, "action", fps)
      : runs(actor.actions).map((run) => ({ ...run, label: humanize(run.value), colour: actionColour(run.value) }));
    const upper = planRuns(sceneActor, "upper", fps);
    const expressions = runs(actor.face.map((row) => Math.round(row[0]))).map((run) => ({
      ...run,
      label: expressionName(run.value),
      colour: EXPRESSION_COLOURS[expressionName(run.value)] ?? "#ddd",
    }));
    lanes.push([`${who}${byModel ? "plan" : "actions"}`, lane("action", actions, frames, fps, video)]);
    if (upper.length) lanes.push([`${who}upper body`, lane("upper", upper, frames, fps, video)]);
    if (byModel) {
      const predicted = (actor.predicted ?? []).map((segment) => ({
        value: segment.action,
        start: segment.start_frame,
        end: segment.end_frame,
        label: humanize(segment.action),
        colour: actionColour(segment.action),
      }));
      lanes.push([`${who}model predicted`, lane("predicted", predicted, frames, fps, video)]);
    }
    lanes.push([`${who}expression`, lane("expression", expressions, frames, fps, video)]);
    const speech = speechRuns(sceneActor, fps);
    if (speech.length) lanes.push([`${who}speech`, lane("speech", speech, frames, fps, video)]);
  });

  const playhead = el("div", { class: "playhead" });
  const overlay = el("div", { class: "playhead-lane", style: { gridRow: `1 / span ${lanes.length}` } }, playhead);
  const cells = lanes.map(([label, node], index) => {
    const row = String(index + 1);
    const labelCell = el("div", { class: "lane-label", style: { gridRow: row } }, label);
    node.style.gridRow = row;
    if (firstLanes.has(index)) for (const cell of [labelCell, node]) cell.classList.add("next-actor");
    return [labelCell, node];
  });
  const grid = el("div", { class: "timeline-grid" }, cells, overlay);
  container.replaceChildren(grid);
  detachPlayhead = followVideo(video, playhead, frames / fps);
}

function lane(kind, segments, frames, fps, video) {
  return el(
    "div",
    { class: `lane lane-${kind}` },
    segments.map((run) => {
      const start = run.start / fps;
      const end = run.end / fps;
      const title = `${run.label} · ${number(start, 1)}–${number(end, 1)} s`;
      return el(
        "button",
        {
          type: "button",
          class: "segment",
          title,
          dataset: { kind, name: run.label, start: start.toFixed(3), end: end.toFixed(3) },
          style: {
            left: `${(100 * run.start) / frames}%`,
            width: `${(100 * (run.end - run.start)) / frames}%`,
            background: run.colour,
          },
          onclick: () => {
            video.currentTime = start;
          },
        },
        el("span", {}, run.label),
      );
    }),
  );
}

/** The plan's segments of one field ("action" or "upper") as frame runs. */
function planRuns(sceneActor, field, fps) {
  if (!sceneActor) return [];
  return sceneActor.segments
    .filter((segment) => segment[field])
    .map((segment) => ({
      value: segment[field],
      start: Math.round(segment.start * fps),
      end: Math.round(segment.end * fps),
      label: humanize(segment[field]),
      colour: actionColour(segment[field]),
    }));
}

function speechRuns(sceneActor, fps) {
  if (!sceneActor) return [];
  return sceneActor.segments
    .filter((segment) => segment.speech)
    .map((segment) => ({
      start: Math.round(segment.start * fps),
      end: Math.round(segment.end * fps),
      label: `“${segment.speech}”`,
      colour: "#eef3f8",
    }));
}

function axis(seconds) {
  const step = TICK_STEPS.find((s) => seconds / s <= 12) ?? 60;
  const ticks = [];
  for (let t = 0; t <= seconds + 1e-9; t += step) {
    ticks.push(
      el("span", { class: "tick", style: { left: `${(100 * t) / seconds}%` } }, `${number(t, 1).replace(/\.0$/, "")} s`),
    );
  }
  return el("div", { class: "lane lane-axis" }, ticks);
}

/** Move the playhead with the video; returns a function that stops following. */
function followVideo(video, playhead, seconds) {
  let frame = 0;
  const place = () => {
    const fraction = seconds > 0 ? Math.min(video.currentTime / seconds, 1) : 0;
    playhead.style.left = `${100 * fraction}%`;
  };
  const loop = () => {
    place();
    frame = video.paused ? 0 : requestAnimationFrame(loop);
  };
  const onPlay = () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(loop);
  };
  video.addEventListener("play", onPlay);
  video.addEventListener("timeupdate", place);
  video.addEventListener("seeked", place);
  place();
  if (!video.paused) onPlay();
  return () => {
    cancelAnimationFrame(frame);
    video.removeEventListener("play", onPlay);
    video.removeEventListener("timeupdate", place);
    video.removeEventListener("seeked", place);
  };
}
