// Material's code-annotation markers are links with no text (axe: link-name). Name each one as it is created:
// with content.lazy, Material builds them only when a code block scrolls into view.
const nameAnnotationMarkers = (root) => {
  for (const marker of root.querySelectorAll(".md-annotation__index:not([aria-label])")) {
    const number = marker.getAttribute("href").split("_annotation_").pop();
    marker.setAttribute("aria-label", `Note ${number} on this code`);
  }
};
new MutationObserver(() => nameAnnotationMarkers(document.body)).observe(document.body, {
  childList: true,
  subtree: true,
});
