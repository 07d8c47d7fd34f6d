// Drives the report page as a person would and writes what its tables show into the DOM.
(function () {
  var out = { steps: {} };
  function section(name) { return document.querySelector("section[data-table=" + name + "]"); }
  function rows(name) {
    return Array.prototype.map.call(section(name).querySelectorAll("tbody tr"), function (tr) {
      return Array.prototype.map.call(tr.children, function (td) { return td.textContent; });
    });
  }
  function status(name) { return section(name).querySelector("[data-role=status]").textContent; }
  function snap(step, name) { out.steps[step] = { rows: rows(name), status: status(name) }; }
  function type(name, text) {
    var box = section(name).querySelector("[data-role=search]");
    box.value = text;
    box.dispatchEvent(new Event("input"));
  }
  function choose(name, cell, value) {
    var select = section(name).querySelector("select[data-cell='" + cell + "']");
    select.value = value;
    select.dispatchEvent(new Event("change"));
  }
  out.ready = document.documentElement.getAttribute("data-ready");
  snap("customers", "customers");
  snap("findings", "findings");
  section("customers").querySelector("[data-role=next]").click();
  snap("customers page 2", "customers");
  section("customers").querySelector("[data-role=prev]").click();
  type("findings", out.steps.findings.rows[0][2]);
  snap("findings searched", "findings");
  type("findings", "");
  choose("findings", 1, "acknowledged");
  snap("findings acknowledged", "findings");
  choose("findings", 1, "");
  choose("findings", 0, "medium");
  snap("findings medium", "findings");
  choose("findings", 0, "");
  var byName = section("customers").querySelector("th[data-col='0'] button");
  byName.click();
  byName.click();
  snap("customers by name", "customers");
  out.sorted = section("customers").querySelector("th[data-col='0']").getAttribute("aria-sort");
  var first = section("customers").querySelector("tbody button.customer");
  out.chosen = first.textContent;
  first.click();
  snap("findings of one customer", "findings");
  snap("matrix of one customer", "matrix");
  out.focus = section("matrix").querySelector("[data-role=focus-name]").textContent;
  section("matrix").querySelector("[data-role=unfocus]").click();
  snap("matrix again", "matrix");
  var pre = document.createElement("pre");
  pre.id = "test-results";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
