"use strict";
// The report's tables: rows come from the page's JSON data block and are shown as text only
// (textContent; never innerHTML). Search, filters, sorting and pages work offline.
(function () {
  var PAGE = 50;
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var strings = data.strings;
  function decode(value) {
    if (Array.isArray(value)) return value.map(decode);
    return value === null ? null : strings[value];
  }
  ["customers", "findings", "recognition", "matrix"].forEach(function (name) {
    var table = data[name];
    table.rows.forEach(function (row) {
      table.interned.forEach(function (cell) { row[cell] = decode(row[cell]); });
    });
  });
  var customerNames = data.customers.rows.map(function (row) { return row[0]; });
  var customerTenants = data.customers.rows.map(function (row) { return row[11]; });
  var views = {};
  var focus = null; // the index of the chosen customer, or null

  function safeClass(prefix, value) {
    return /^[a-z_]+$/.test(String(value)) ? prefix + value : "";
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function cellNode(column, value, row, view) {
    var td = el("td");
    if (column.kind === "num") {
      td.className = "num";
      td.textContent = value === null || value === undefined ? "" : Number(value).toLocaleString("en-US");
    } else if (column.kind === "lines" || column.kind === "titled") {
      (value || []).forEach(function (line, i) {
        td.appendChild(el("div", line, column.kind === "titled" && i === 0 ? "first" : "rest"));
      });
    } else if (column.kind === "badge") {
      td.appendChild(el("span", value, "sev " + safeClass("sev-", value)));
    } else if (column.kind === "state") {
      td.className = safeClass("state-", value[0]);
      td.textContent = value[1];
    } else if (column.kind === "customer") {
      var index = row[view.table.customer];
      var name = view.name === "customers" ? value : index >= 0 ? customerNames[index] : "(partner)";
      if (index >= 0) {
        var button = el("button", name, "customer");
        button.type = "button";
        button.title = "only this customer's rows";
        button.addEventListener("click", function () { choose(index); });
        td.appendChild(button);
      } else {
        td.textContent = name;
      }
    } else {
      td.textContent = value === null || value === undefined ? "" : value;
    }
    if (column.nowrap) td.className = (td.className + " nowrap").trim();
    return td;
  }

  function text(value) {
    if (value === null || value === undefined) return "";
    if (Array.isArray(value)) return value.map(text).join(" ");
    return String(value);
  }

  function haystack(view) {
    if (!view.hay) {
      var at = view.table.customer;
      view.hay = view.table.rows.map(function (row) {
        var who = row[at] >= 0 ? " " + customerNames[row[at]] + " " + customerTenants[row[at]] : "";
        return (text(row) + who).toLowerCase();
      });
    }
    return view.hay;
  }

  function compare(a, b) {
    if (Array.isArray(a) && Array.isArray(b)) {
      for (var i = 0; i < Math.min(a.length, b.length); i++) {
        var c = compare(a[i], b[i]);
        if (c) return c;
      }
      return a.length - b.length;
    }
    if (a === null || a === undefined || a === "") return b === null || b === undefined || b === "" ? 0 : 1;
    if (b === null || b === undefined || b === "") return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return text(a).localeCompare(text(b), "en", { numeric: true, sensitivity: "base" });
  }

  function refresh(view) {
    var table = view.table;
    var terms = view.search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var hay = terms.length ? haystack(view) : null;
    var shown = [];
    for (var i = 0; i < table.rows.length; i++) {
      var row = table.rows[i];
      if (focus !== null && row[table.customer] !== focus) continue;
      var ok = view.filters.every(function (f) { return !f.value || text(row[f.cell]) === f.value; });
      if (ok && hay) ok = terms.every(function (t) { return hay[i].indexOf(t) >= 0; });
      if (ok) shown.push(row);
    }
    if (view.sortCol !== null) {
      var column = table.columns[view.sortCol];
      var cell = column.sort === null || column.sort === undefined ? view.sortCol : column.sort;
      var sign = view.sortDir === "ascending" ? 1 : -1;
      shown = shown.slice().sort(function (a, b) { return sign * compare(a[cell], b[cell]); });
    }
    view.shown = shown;
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    view.page = Math.min(view.page, pages - 1);
    var body = view.node.querySelector("tbody");
    while (body.firstChild) body.removeChild(body.firstChild);
    var start = view.page * PAGE;
    shown.slice(start, start + PAGE).forEach(function (row) {
      var tr = el("tr");
      table.columns.forEach(function (column, c) { tr.appendChild(cellNode(column, row[c], row, view)); });
      body.appendChild(tr);
    });
    if (!shown.length) {
      var empty = el("td", table.rows.length ? "no row matches" : table.empty, "note");
      empty.colSpan = table.columns.length;
      var tr = el("tr");
      tr.appendChild(empty);
      body.appendChild(tr);
    }
    var status = shown.length
      ? (start + 1).toLocaleString("en-US") + "–" + Math.min(start + PAGE, shown.length).toLocaleString("en-US") +
        " of " + shown.length.toLocaleString("en-US") +
        (shown.length < table.rows.length ? " (of " + table.rows.length.toLocaleString("en-US") + ")" : "") +
        " · page " + (view.page + 1) + " of " + pages
      : "0 of " + table.rows.length.toLocaleString("en-US");
    view.node.querySelector("[data-role=status]").textContent = status;
    view.node.querySelector("[data-role=prev]").disabled = view.page === 0;
    view.node.querySelector("[data-role=next]").disabled = view.page >= pages - 1;
    var badge = view.node.querySelector("[data-role=focus]");
    badge.hidden = focus === null;
    if (focus !== null) {
      badge.querySelector("[data-role=focus-name]").textContent = data.customers.rows[focus][0];
    }
  }

  function choose(index) {
    focus = index;
    Object.keys(views).forEach(function (name) { views[name].page = 0; refresh(views[name]); });
    var findings = document.getElementById("findings");
    if (findings && findings.scrollIntoView) findings.scrollIntoView();
  }

  function setUp(node) {
    var name = node.getAttribute("data-table");
    var view = {
      name: name, node: node, table: data[name], page: 0, sortCol: null, sortDir: "descending",
      search: node.querySelector("[data-role=search]"), filters: [], hay: null, shown: []
    };
    node.querySelectorAll("[data-role=filter]").forEach(function (select) {
      var f = { cell: Number(select.getAttribute("data-cell")), value: "" };
      view.filters.push(f);
      select.addEventListener("change", function () { f.value = select.value; view.page = 0; refresh(view); });
    });
    view.search.addEventListener("input", function () { view.page = 0; refresh(view); });
    node.querySelectorAll("th").forEach(function (th) {
      th.querySelector("[data-role=sort]").addEventListener("click", function () {
        var col = Number(th.getAttribute("data-col"));
        view.sortDir = view.sortCol === col && view.sortDir === "descending" ? "ascending" : "descending";
        view.sortCol = col;
        node.querySelectorAll("th").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", view.sortDir);
        refresh(view);
      });
    });
    node.querySelector("[data-role=prev]").addEventListener("click", function () { view.page -= 1; refresh(view); });
    node.querySelector("[data-role=next]").addEventListener("click", function () { view.page += 1; refresh(view); });
    node.querySelector("[data-role=unfocus]").addEventListener("click", function () { choose(null); });
    views[name] = view;
    refresh(view);
  }

  document.querySelectorAll("section[data-table]").forEach(setUp);
  document.documentElement.setAttribute("data-ready", "yes");
})();
