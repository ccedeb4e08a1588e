/* The fine-tune tab (one job: timeline, curve, checkpoints, cost, deployments) and the sweep
 * view (every member's curves overlaid, the chosen one marked), on the selection task's tab
 * and below a mapped fine-tune member's. Draws what the server computed (views.py, sweep.py). */
(function () {
  "use strict";
  var DS = window.DashScope, el = DS.el;
  var PALETTE = ["#4f46e5", "#d97706", "#059669", "#db2777", "#0891b2", "#7c3aed", "#65a30d",
    "#dc2626", "#0f766e", "#a16207"];

  function sweepSeries(sweep) {
    var lines = [];
    (sweep.series || []).forEach(function (s, i) {
      var color = PALETTE[i % PALETTE.length], width = s.chosen ? 3.5 : 1.5;
      lines.push({ points: s.points, key: "train_loss", cls: "train member", color: color,
        width: width, dots: false, title: s.label + " training loss" });
      lines.push({ points: s.points, key: "val_loss", cls: "val member", color: color,
        width: width, dots: s.chosen, title: s.label + " validation loss" });
      s.color = color;
    });
    return lines;
  }

  /* The sweep section inside `section` (a node holding the chart, legend and table). */
  function renderSweep(section, sweep, axis) {
    section.hidden = !sweep;
    if (!sweep) return;
    var lines = sweepSeries(sweep);
    DS.drawCurves(section.querySelector("[data-testid=sweep-chart]"), lines, sweep.axes, axis);
    var legend = section.querySelector("[data-testid=sweep-legend]");
    legend.textContent = "";
    (sweep.series || []).forEach(function (s) {
      var item = el("span", { "class": "member-key" + (s.chosen ? " chosen" : "") + (s.retired ? " retired" : ""),
        "data-map-index": s.map_index });
      var swatch = el("span", { "class": "key" }); swatch.style.background = s.color;
      item.appendChild(swatch); item.appendChild(document.createTextNode(" " + s.label));
      legend.appendChild(item);
    });
    var what = section.querySelector("[data-testid=sweep-what]");
    what.textContent = "by " + sweep.metric + " (" + (sweep.direction === "max" ? "higher" : "lower") +
      " is better)" + (sweep.chosen_map_index == null ? " · nothing chosen yet" :
        " · chosen: #" + sweep.chosen_map_index + (sweep.selection_task_id ? " by " + sweep.selection_task_id : ""));
    DS.fillTable(section.querySelector("[data-testid=sweep-members] tbody"), sweep.members || [], function (m, tr) {
      if (m.chosen) tr.className = "chosen";
      if (m.current) tr.classList.add("current");
      var hyper = Object.keys(m.hyper_parameters || {}).sort().map(function (k) {
        return k + "=" + m.hyper_parameters[k];
      }).join(", ");
      return ["#" + m.map_index + (m.chosen ? " (chosen)" : "") + (m.current ? " (this task)" : ""),
        m.job_id, DS.badge(m.status), DS.fmtNumber(m.value), hyper || "—",
        m.retired ? "retired" : (m.note || "")];
    }, 6);
  }

  function renderJob(root, data, axis) {
    var error = root.querySelector("[data-testid=error]");
    var problems = (data.problems || []).slice();
    if (data.error) problems.unshift(data.error);
    if (!data.job && !data.error) problems.unshift("The task has not started a job yet.");
    error.hidden = !problems.length;
    error.textContent = problems.join(" · ");
    root.querySelectorAll("[data-field]").forEach(function (n) {
      n.textContent = DS.fmtNumber(DS.get(data, n.dataset.field));
    });
    var estimate = root.querySelector("[data-testid=estimated-tokens]");
    if (get(data, "cost.estimated_tokens") == null && get(data, "cost.estimate_note")) {
      estimate.textContent = data.cost.estimate_note;
    }
    root.querySelectorAll("[data-label]").forEach(function (n) {
      var v = DS.get(data, n.dataset.label); if (v) n.textContent = v;
    });
    root.querySelectorAll("[data-time]").forEach(function (n) { n.textContent = DS.fmtTime(DS.get(data, n.dataset.time)); });
    root.querySelectorAll("[data-duration]").forEach(function (n) { n.textContent = DS.fmtDuration(DS.get(data, n.dataset.duration)); });
    root.querySelectorAll("[data-href]").forEach(function (n) {
      var v = DS.get(data, n.dataset.href); if (v) n.href = v;
    });
    var status = root.querySelector("[data-testid=job-status]");
    status.className = DS.stateClass(DS.get(data, "job.status"));
    var training = data.training || {};
    DS.drawCurves(document.getElementById("chart"), [
      { points: training.points, key: "train_loss", cls: "train", title: "train loss" },
      { points: training.points, key: "val_loss", cls: "val", title: "val loss" }
    ], training.axes, axis, training.steps_per_epoch);
    DS.fillTable(root.querySelector("[data-testid=checkpoints] tbody"), data.checkpoints || [], function (c) {
      return [c.checkpoint + (c.final ? " (final)" : ""), c.step, DS.badge(c.status), c.model_name,
        c.exported_by ? "exported by " + c.exported_by : ""];
    });
    DS.fillTable(root.querySelector("[data-testid=deployments] tbody"), data.deployments || [], function (d) {
      var a = el("a", { href: d.console_url, target: "_blank", rel: "noopener" }, "console");
      var task = d.task_id ? d.task_id + (d.task_status ? " (saw " + d.task_status + ")" : "") : null;
      var status = d.removed_by ? el("span", {}) : DS.badge(d.status);
      if (d.removed_by) {
        status.appendChild(DS.badge(d.status));
        status.appendChild(document.createTextNode(" by " + d.removed_by));
      }
      return [d.deployed_model, status, d.model_name, d.plan, task, a];
    });
    root.dataset.points = String((training.points || []).length);
    root.dataset.status = DS.get(data, "job.status") || "";
  }
  function get(o, p) { return DS.get(o, p); }

  var root = document.getElementById("fine-tune") || document.getElementById("sweep");
  if (!root) return;
  var axis = "step", last = null;
  function render(data) {
    last = data;
    if (root.id === "fine-tune") renderJob(root, data, axis);
    else {
      var error = root.querySelector("[data-testid=error]");
      error.hidden = !!data.sweep;
      error.textContent = data.sweep ? "" : "The selection has not recorded a sweep yet.";
    }
    var section = root.querySelector("[data-testid=sweep]");
    if (section) renderSweep(section, data.sweep, axis);
    root.dataset.members = String(((data.sweep || {}).members || []).length);
  }
  root.querySelectorAll("[data-axis]").forEach(function (b) {
    b.addEventListener("click", function () {
      axis = b.dataset.axis;
      root.querySelectorAll("[data-axis]").forEach(function (o) { o.classList.toggle("on", o.dataset.axis === axis); });
      if (last) render(last);
    });
  });
  DS.poll(root, render);
})();
