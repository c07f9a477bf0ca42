// Render math with the self-hosted KaTeX: \( \) and \[ \] as left by pymdownx.arithmatex (generic mode) on
// the course pages, $ and $$ as written in the notebook pages. document$ fires on every page load,
// instant navigation included.
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
    ],
    throwOnError: false,
  });
});
