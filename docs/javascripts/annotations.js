// Material's code-annotation markers are links with no text (axe: link-name). Name each one as it is created:
// with content.lazy, Material builds them only when a code block scrolls into view.
const MARKER = ".md-annotation__index:not([aria-label])";
const name = (marker) =>
  marker.setAttribute("aria-label", `Note ${marker.getAttribute("href").split("_annotation_").pop()} on this code`);

new MutationObserver((mutations) => {
  for (const { addedNodes } of mutations) {
    for (const node of addedNodes) {
      if (node.nodeType !== Node.ELEMENT_NODE) continue;
      if (node.matches(MARKER)) name(node);
      node.querySelectorAll(MARKER).forEach(name);
    }
  }
}).observe(document.body, { childList: true, subtree: true });
