/** The optional API key: asked for once (when the API answers 401), kept in localStorage and
 * sent as `X-API-Key` with every request. */

const STORAGE_KEY = "stickgen.apiKey";
let pending = null;
let declined = false;

export function storedKey() {
  return localStorage.getItem(STORAGE_KEY);
}

export function keyHeaders() {
  const key = storedKey();
  return key ? { "X-API-Key": key } : {};
}

/** Ask for a key; one dialog serves every request waiting on it. Resolves true when a key was
 * saved. After the user cancels, requests stop asking until `force` (the header button). */
export function askForKey({ rejected = false, force = false } = {}) {
  if (declined && !force) return Promise.resolve(false);
  if (!pending) pending = openDialog(rejected, force).finally(() => (pending = null));
  return pending;
}

function openDialog(rejected, force) {
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  const note = document.getElementById("key-note");
  if (force) {
    note.textContent = storedKey()
      ? "A key is saved in this browser. Enter a new one, or leave it empty to forget it."
      : "Enter the server's API key (it stays in this browser).";
  } else if (rejected) {
    note.textContent = "The server refused the saved key. Enter the right API key.";
  } else {
    note.textContent = "This server needs an API key. It is kept in this browser only.";
  }
  input.value = "";
  dialog.returnValue = "";
  dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        const key = input.value.trim();
        input.value = "";
        if (dialog.returnValue !== "save") {
          if (!force) declined = true;
          resolve(false);
        } else if (key) {
          localStorage.setItem(STORAGE_KEY, key);
          declined = false;
          if (force) window.dispatchEvent(new CustomEvent("stickgen:key"));
          resolve(true);
        } else {
          if (force) localStorage.removeItem(STORAGE_KEY);
          else declined = true;
          resolve(false);
        }
      },
      { once: true },
    );
  });
}
