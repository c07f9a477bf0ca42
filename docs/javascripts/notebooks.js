// On the exercise-notebook pages: make scrollable code reachable by keyboard, and fold each run of solution cells (tagged "solution": the code and the
// prose that explains it) into one "Solution" box, as the chapters do.
const isSolution = (cell) =>
  cell.classList.contains("celltag_solution") || cell.querySelector(".celltag_solution") !== null;

document$.subscribe(({ body }) => {
  for (const code of body.querySelectorAll(".highlight-ipynb")) code.tabIndex = 0;
  const cells = [...body.querySelectorAll(".jp-Cell")].filter((cell) => !cell.parentElement.closest(".jp-Cell"));
  let details = null;
  for (const cell of cells) {
    if (!isSolution(cell)) {
      details = null;
      continue;
    }
    if (!details || cell.previousElementSibling !== details) {
      details = document.createElement("details");
      details.className = "success";
      const summary = document.createElement("summary");
      summary.textContent = "Solution";
      details.append(summary);
      cell.before(details);
    }
    if (cell.textContent.trim() === "Solution") cell.remove(); // the title, now the box's summary
    else details.append(cell);
  }
});
