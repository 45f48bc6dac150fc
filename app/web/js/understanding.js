/** What the story engine made of a prompt (`scene.understanding`, the `X-StickGen-Understood`
 * header): the prompt again under the text box with each recognised, guessed and ignored word
 * marked, a line of what each became, and a notice when nothing was understood. */

import { el } from "./dom.js";
import { humanize, number } from "./format.js";

const KIND_CLASS = { recognised: "word-recognised", guessed: "word-guessed", ignored: "word-ignored" };

function items(report) {
  return [
    ...report.recognised.map((r) => ({ ...r, status: "recognised", title: `${r.kind}: ${humanize(r.meaning)}` })),
    ...report.guessed.map((g) => ({
      ...g,
      status: "guessed",
      title: `guessed ${g.kind}: ${humanize(g.meaning)} (similarity ${number(g.score, 2)})`,
    })),
    ...report.ignored.map((text) => ({ text, status: "ignored", title: "not understood: left out" })),
  ];
}

/** Where each item's text first occurs in the prompt without overlapping an earlier claim. */
function placed(prompt, list) {
  const lower = prompt.toLowerCase();
  const taken = [];
  const found = [];
  for (const item of list) {
    const needle = String(item.text).toLowerCase();
    if (!needle) continue;
    let at = lower.indexOf(needle);
    while (at >= 0 && taken.some(([a, b]) => at < b && at + needle.length > a)) at = lower.indexOf(needle, at + 1);
    if (at < 0) continue;
    taken.push([at, at + needle.length]);
    found.push({ ...item, start: at, end: at + needle.length });
  }
  return found.sort((a, b) => a.start - b.start);
}

function marked(prompt, list) {
  const parts = [];
  let cursor = 0;
  for (const item of placed(prompt, list)) {
    if (item.start > cursor) parts.push(prompt.slice(cursor, item.start));
    parts.push(
      el(
        "mark",
        { class: KIND_CLASS[item.status], title: item.title, dataset: { status: item.status, kind: item.kind ?? "" } },
        prompt.slice(item.start, item.end),
      ),
    );
    cursor = item.end;
  }
  parts.push(prompt.slice(cursor));
  return parts;
}

function meanings(report) {
  const shown = report.recognised.filter((r) => r.kind !== "person" || report.recognised.length < 6);
  const parts = [];
  if (shown.length) {
    parts.push(
      el("span", { class: "understood-part" }, "Recognised: ", shown.map((r, i) => [i ? ", " : "", `${r.text} → ${humanize(r.meaning)}`])),
    );
  }
  if (report.guessed.length) {
    parts.push(
      el(
        "span",
        { class: "understood-part", id: "understood-guessed" },
        "Guessed by meaning: ",
        report.guessed.map((g, i) => [i ? ", " : "", `“${g.text}” → ${humanize(g.meaning)} (${number(g.score, 2)})`]),
      ),
    );
  }
  if (report.ignored.length) {
    parts.push(el("span", { class: "understood-part", id: "understood-ignored" }, "Not understood: ", report.ignored.join(", ")));
  }
  return parts;
}

/** Recognised actions drawn by another action (no motion of their own, e.g. a cartwheel). */
function substituted(report) {
  return report.recognised.filter((r) => {
    if (r.kind !== "action") return false;
    const stem = humanize(r.meaning).split(" ")[0].slice(0, 4).toLowerCase();
    return !r.text.toLowerCase().includes(stem);
  });
}

/** Fill `panel` (under the prompt) and `notice`; a null report hides both. */
export function renderUnderstanding(panel, notice, report, prompt) {
  if (!report || !Array.isArray(report.recognised)) {
    panel.hidden = true;
    notice.hidden = true;
    return;
  }
  panel.replaceChildren(
    el("div", { class: "understood-prompt", dataset: { understood: String(report.understood) } }, marked(prompt, items(report))),
    el("div", { class: "understood-meanings" }, meanings(report)),
  );
  panel.hidden = false;
  if (!report.understood) {
    const words = report.ignored.length ? ` (${report.ignored.join(", ")})` : "";
    notice.textContent =
      `Nothing in this prompt was understood${words}, so the figure just stands there. ` +
      "Name an action, e.g. “a man waves”, “she jumps twice then sits on a bench”.";
    notice.dataset.kind = "nothing";
    notice.hidden = false;
  } else if (report.guessed.length || report.ignored.length || substituted(report).length) {
    const drawn = substituted(report).map((r) => `“${r.text}” is drawn as ${humanize(r.meaning)}`);
    const guessed = report.guessed.map((g) => `“${g.text}” was guessed to mean ${humanize(g.meaning)}`);
    const ignored = report.ignored.length ? [`${report.ignored.join(", ")} ${report.ignored.length > 1 ? "were" : "was"} left out`] : [];
    notice.textContent = `${[...drawn, ...guessed, ...ignored].join("; ")}.`;
    notice.dataset.kind = "partial";
    notice.hidden = false;
  } else {
    notice.hidden = true;
    notice.textContent = "";
  }
}
