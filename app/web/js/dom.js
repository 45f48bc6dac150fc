/** DOM helpers. Text from the API is always inserted as text, never parsed as HTML. */

/** Build an element: `el("a", {href: "#x", class: "link"}, "text", childNode)`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "style") Object.assign(node.style, value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const byId = (id) => document.getElementById(id);

/** Show an error (an ApiError's "title: detail", or a network failure) in `node`. */
export function showError(node, error) {
  node.textContent = errorText(error);
  node.hidden = false;
}

export function clearError(node) {
  node.textContent = "";
  node.hidden = true;
}

export function errorText(error) {
  if (error && error.name === "ApiError") return error.message;
  return `Cannot reach the API: ${error && error.message ? error.message : error}`;
}
