/* The evaluation tab: each model's scores with their confidence intervals, the paired
 * difference against the baseline, the judge, the gate's verdict and the worst examples side
 * by side. Draws what the server computed (plugins/evaluation.py). */
(function () {
  "use strict";
  var DS = window.DashScope, el = DS.el;
  var root = document.getElementById("evaluation");
  if (!root) return;

  function pct(v) { return v == null ? "—" : (Math.round(v * 1000) / 10) + "%"; }
  function interval(i) {
    return !i ? "—" : DS.fmtNumber(i.mean) + (i.low != null ? " [" + DS.fmtNumber(i.low) + ", " + DS.fmtNumber(i.high) + "]" : "");
  }
  function wins(o) { return !o ? "—" : [o.wins, o.losses, o.ties].map(DS.fmtNumber).join(" / "); }

  function drawScores(box, ev) {
    box.textContent = "";
    ev.scores.forEach(function (row) {
      var block = el("div", { "class": "metric" + (row.primary ? " primary" : ""), "data-metric": row.metric });
      block.appendChild(el("h3", {}, row.metric + (row.primary ? " (the gate's metric)" : "")));
      var chart = el("div", { "class": "chart" });
      block.appendChild(chart);
      box.appendChild(block);
      DS.drawIntervals(chart, ev.models.map(function (m, i) {
        var s = row.models[m.role] || {};
        return { label: m.role, mean: s.mean, low: s.low, high: s.high, cls: "m" + i };
      }), ev.ticks, false);
    });
  }

  function drawWorst(table, ev) {
    var head = table.querySelector("thead");
    head.textContent = "";
    var tr = el("tr");
    ["Line", "Prompt", "Reference"].concat(ev.models.map(function (m) { return m.role; }))
      .forEach(function (h) { tr.appendChild(el("th", {}, h)); });
    head.appendChild(tr);
    DS.fillTable(table.querySelector("tbody"), ev.worst, function (w) {
      return [w.line, el("div", { "class": "text" }, w.prompt), el("div", { "class": "text" }, w.reference)]
        .concat(w.models.map(function (m) {
          var cell = el("div", { "class": "answer" });
          cell.appendChild(el("div", { "class": "text" }, m.answer == null ? "—" : m.answer));
          cell.appendChild(el("div", { "class": "score" }, "score " + DS.fmtNumber(m.score)));
          return cell;
        }));
    }, 3 + ev.models.length);
  }

  function render(data) {
    var ev = data.evaluation;
    var error = root.querySelector("[data-testid=error]");
    error.hidden = !!ev;
    error.textContent = ev ? "" : (data.why || "No evaluation recorded.");
    ["eval-cards", "scores-card", "worst-card"].forEach(function (id) {
      root.querySelector("[data-testid=" + id + "]").hidden = !ev;
    });
    root.dataset.loaded = ev ? "evaluation" : "none";
    if (!ev) return;
    root.querySelector("[data-testid=eval-what]").textContent = ev.models.map(function (m) {
      return m.role + " " + (m.model || "?");
    }).join(" vs ") + " · " + DS.fmtNumber(ev.examples) + " examples · by " + ev.metric +
      (ev.reused ? " · reused an earlier identical evaluation" : "") +
      (data.source === "evaluation" ? " · read from the result pushed before the gate" : "");
    var gate = root.querySelector("[data-testid=gate-status]");
    gate.className = "badge s-" + (ev.gate.status === "PASSED" ? "success" : ev.gate.status === "FAILED" ? "failed" : "pending");
    gate.textContent = "gate " + ev.gate.status.toLowerCase();
    root.querySelectorAll("[data-eval]").forEach(function (n) {
      var v = DS.get(ev, n.dataset.eval);
      n.textContent = n.hasAttribute("data-percent") ? pct(v) : DS.fmtNumber(v);
    });
    var c = ev.comparison;
    root.querySelector("[data-testid=difference]").textContent = c ? interval(c.difference) + " vs " + c.against : "no comparison";
    root.querySelector("[data-testid=wins]").textContent = wins(c);
    root.querySelector("[data-testid=judge-wins]").textContent = ev.judge ? wins(ev.judge) : "no judge";
    var diffBox = root.querySelector("[data-testid=difference-chart]");
    diffBox.textContent = "";
    if (c && c.difference && ev.difference_ticks) {
      DS.drawIntervals(diffBox, [{ label: "difference", mean: c.difference.mean, low: c.difference.low,
        high: c.difference.high, cls: "diff" }], ev.difference_ticks, true);
    }
    drawScores(root.querySelector("[data-testid=scores]"), ev);
    drawWorst(root.querySelector("[data-testid=worst]"), ev);
  }
  DS.poll(root, render);
})();
