// Tables of the console (.table-va) stack into one card per row on a phone (voiceadmin.css): each cell is given its
// column's name to show beside it, and explicit table roles, which browsers drop once a table is no longer laid out
// as one.
(function () {
  "use strict";
  function labelTables(root) {
    root.querySelectorAll("table.table-va").forEach(labelTable);
  }
  function labelTable(table) {
    var names = Array.from(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    table.setAttribute("role", "table");
    table.querySelectorAll("thead, tbody, tfoot").forEach(function (group) { group.setAttribute("role", "rowgroup"); });
    table.querySelectorAll("tr").forEach(function (row) {
      row.setAttribute("role", "row");
      Array.from(row.children).forEach(function (cell, index) {
        if (cell.parentElement.parentElement.tagName === "THEAD") {
          cell.setAttribute("role", "columnheader");
          return;
        }
        cell.setAttribute("role", cell.tagName === "TH" ? "rowheader" : "cell");
        if (!cell.hasAttribute("colspan") && names[index]) { cell.dataset.label = names[index]; }
      });
    });
  }
  window.vaLabelTables = labelTables;  // for parts of a page that refresh themselves
  labelTables(document);
})();
