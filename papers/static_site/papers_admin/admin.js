/* On a phone the admin's tables show one block per row (static/papers_admin/admin.css), with no
 * header row: each cell gets its column's name in data-label, which the stylesheet shows. */
(function () {
  "use strict";

  function labelCells(table) {
    const heads = table.querySelectorAll(":scope > thead > tr > th");
    if (!heads.length) return;
    const names = Array.prototype.map.call(heads, function (th) {
      return th.textContent.replace(/\s+/g, " ").trim();
    });
    table.querySelectorAll(":scope > tbody > tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (names[index] && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", names[index]);
        }
      });
    });
  }

  function start() {
    document.querySelectorAll("#result_list, .inline-group .tabular table").forEach(labelCells);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
