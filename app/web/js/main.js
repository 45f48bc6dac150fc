/** Entry point: hash routing between the three views (#playground, #jobs, #checkpoints/<id>). */

import { askForKey } from "./auth.js";
import { showCheckpoints } from "./checkpoints.js";
import { byId, clearError, showError } from "./dom.js";
import { initJobs, prepareJobsForm, startJobsPolling, stopJobsPolling } from "./jobs.js";
import { initPlayground, loadCheckpointChoices, preparePlaygroundForm } from "./playground.js";

const VIEWS = ["playground", "jobs", "checkpoints"];

function currentRoute() {
  const [name, argument] = location.hash.replace(/^#/, "").split("/");
  return { view: VIEWS.includes(name) ? name : "playground", argument };
}

function route() {
  const { view, argument } = currentRoute();
  for (const name of VIEWS) byId(`view-${name}`).hidden = name !== view;
  for (const link of document.querySelectorAll(".tabs a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.body.dataset.view = view;
  if (view === "jobs" && !document.hidden) startJobsPolling();
  else stopJobsPolling();
  if (view === "jobs") prepareJobsForm();
  if (view === "playground") {
    preparePlaygroundForm();
    loadCheckpointChoices().catch((error) => showError(byId("animate-error"), error));
  }
  if (view === "checkpoints") showCheckpoints(argument);
}

initPlayground();
initJobs();
window.addEventListener("hashchange", route);
document.addEventListener("visibilitychange", () => {
  if (currentRoute().view === "jobs" && !document.hidden) startJobsPolling();
  else stopJobsPolling();
});
window.addEventListener("stickgen:key", () => {
  for (const box of document.querySelectorAll(".error[role=alert]")) clearError(box);
  route();
});
byId("key-button").addEventListener("click", () => askForKey({ force: true }));
route();
