/* The DashScope pages' script: draws the fine-tune tab from its JSON (plain SVG, no library)
 * and refreshes it while the job runs; on the DashScope page, formats times and opens Airflow
 * links in the surrounding Airflow UI. Every URL is relative: the pages live under Airflow's
 * base URL, inside an iframe of Airflow's UI. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function get(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, obj);
  }
  function fmtNumber(v) {
    if (v == null || v === "") return "—";
    if (typeof v === "number") {
      return Number.isInteger(v) ? v.toLocaleString("en-US") : String(Math.round(v * 10000) / 10000);
    }
    return String(v);
  }
  function fmtTime(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString();
  }
  function fmtDuration(s) {
    if (s == null) return "—";
    s = Math.round(s);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + " h " : "") + (h || m ? m + " min " : "") + r + " s";
  }
  function el(tag, attrs, text) {
    var node = tag.indexOf("svg:") === 0
      ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
  }

  /* Links to Airflow pages: the frame may not navigate the top window (sandbox), so when
   * framed, tell the surrounding single-page app to route there. */
  function openInAirflow(event) {
    var link = event.target.closest("a.airflow-link");
    if (!link || window.top === window) return;
    try {
      var url = new URL(link.href);
      var history = window.parent.history;
      var state = history.state || {};
      var next = { usr: null, key: Math.random().toString(36).slice(2, 10), idx: (state.idx || 0) + 1 };
      history.pushState(next, "", url.pathname + url.search);
      window.parent.dispatchEvent(new PopStateEvent("popstate", { state: next }));
      event.preventDefault();
    } catch (e) { /* not the same origin: let the link open in the frame */ }
  }
  document.addEventListener("click", openInAirflow);
  document.querySelectorAll("time[data-iso]").forEach(function (t) {
    if (t.dataset.iso) t.textContent = fmtTime(t.dataset.iso);
  });

  var root = document.getElementById("fine-tune");
  if (!root) return;
  var axis = "step";
  var last = null;

  function drawChart(training) {
    var box = document.getElementById("chart");
    box.textContent = "";
    var points = (training && training.points) || [];
    var xOf = function (p) { return axis === "step" ? p.step : p.epoch; };
    var usable = points.filter(function (p) { return xOf(p) != null; });
    var losses = [];
    usable.forEach(function (p) {
      if (p.train_loss != null) losses.push(p.train_loss);
      if (p.val_loss != null) losses.push(p.val_loss);
    });
    if (!losses.length) {
      box.appendChild(el("p", { "class": "empty", "data-testid": "no-points" },
        "No loss logged yet."));
      return;
    }
    var W = Math.max(box.clientWidth || 720, 360), H = 280;
    var M = { l: 56, r: 16, t: 12, b: 40 };
    var xs = usable.map(xOf);
    var total = axis === "step" ? training.total_steps : training.total_epochs;
    var x0 = 0, x1 = Math.max(total || 0, Math.max.apply(null, xs)) || 1;
    var y0 = Math.min.apply(null, losses), y1 = Math.max.apply(null, losses);
    var pad = (y1 - y0) * 0.08 || 0.1;
    y0 = Math.max(0, y0 - pad); y1 = y1 + pad;
    var sx = function (v) { return M.l + (v - x0) / (x1 - x0) * (W - M.l - M.r); };
    var sy = function (v) { return H - M.b - (v - y0) / (y1 - y0) * (H - M.t - M.b); };
    var svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H,
      role: "img", "aria-label": "loss by " + axis });
    for (var i = 0; i <= 4; i++) {
      var yv = y0 + (y1 - y0) * i / 4;
      svg.appendChild(el("svg:line", { x1: M.l, x2: W - M.r, y1: sy(yv), y2: sy(yv), "class": "grid" }));
      svg.appendChild(el("svg:text", { x: M.l - 6, y: sy(yv) + 4, "class": "tick", "text-anchor": "end" },
        yv.toFixed(3)));
    }
    var ticks = axis === "epoch" ? Math.ceil(x1) : 6;
    for (var j = 0; j <= ticks; j++) {
      var xv = axis === "epoch" ? j : Math.round(x1 * j / ticks);
      svg.appendChild(el("svg:text", { x: sx(xv), y: H - M.b + 16, "class": "tick", "text-anchor": "middle" },
        String(xv)));
    }
    if (axis === "step" && training.steps_per_epoch) {
      for (var s = training.steps_per_epoch; s < x1; s += training.steps_per_epoch) {
        svg.appendChild(el("svg:line", { x1: sx(s), x2: sx(s), y1: M.t, y2: H - M.b, "class": "epoch" }));
      }
    }
    svg.appendChild(el("svg:text", { x: (W + M.l) / 2, y: H - 6, "class": "label", "text-anchor": "middle" }, axis));
    [["train_loss", "train"], ["val_loss", "val"]].forEach(function (series) {
      var pts = usable.filter(function (p) { return p[series[0]] != null; });
      if (!pts.length) return;
      var d = pts.map(function (p, k) {
        return (k ? "L" : "M") + sx(xOf(p)).toFixed(1) + "," + sy(p[series[0]]).toFixed(1);
      }).join(" ");
      svg.appendChild(el("svg:path", { d: d, "class": "line " + series[1] }));
      pts.forEach(function (p) {
        var c = el("svg:circle", { cx: sx(xOf(p)), cy: sy(p[series[0]]), r: 3,
          "class": "pt " + series[1], "data-step": p.step });
        c.appendChild(el("svg:title", {}, series[1] + " loss " + p[series[0]] + " at step " + p.step +
          (p.epoch != null ? ", epoch " + p.epoch : "")));
        svg.appendChild(c);
      });
    });
    box.appendChild(svg);
  }

  function fillTable(selector, rows, cells) {
    var body = root.querySelector(selector + " tbody");
    body.textContent = "";
    if (!rows.length) {
      var tr = el("tr"); tr.appendChild(el("td", { colspan: 6, "class": "empty" }, "None yet."));
      body.appendChild(tr); return;
    }
    rows.forEach(function (row) {
      var tr = el("tr");
      cells(row).forEach(function (cell) {
        var td = el("td");
        if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell == null ? "—" : cell;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  function badge(status) {
    return el("span", { "class": "badge s-" + String(status || "").toLowerCase() }, status || "—");
  }

  function render(data) {
    last = data;
    var error = root.querySelector("[data-testid=error]");
    var problems = (data.problems || []).slice();
    if (data.error) problems.unshift(data.error);
    if (!data.job && !data.error) problems.unshift("The task has not started a job yet.");
    error.hidden = !problems.length;
    error.textContent = problems.join(" · ");
    root.querySelectorAll("[data-field]").forEach(function (n) {
      var v = get(data, n.dataset.field);
      n.textContent = n.hasAttribute("data-number") ? fmtNumber(v) : (v == null ? "—" : fmtNumber(v));
    });
    root.querySelectorAll("[data-time]").forEach(function (n) { n.textContent = fmtTime(get(data, n.dataset.time)); });
    root.querySelectorAll("[data-duration]").forEach(function (n) { n.textContent = fmtDuration(get(data, n.dataset.duration)); });
    root.querySelectorAll("[data-href]").forEach(function (n) {
      var v = get(data, n.dataset.href); if (v) n.href = v;
    });
    var status = root.querySelector("[data-testid=job-status]");
    status.className = "badge s-" + String(get(data, "job.status") || "").toLowerCase();
    drawChart(data.training);
    fillTable("[data-testid=checkpoints]", data.checkpoints || [], function (c) {
      return [c.checkpoint + (c.final ? " (final)" : ""), c.step, badge(c.status), c.model_name,
        c.exported_by ? "exported by " + c.exported_by : ""];
    });
    fillTable("[data-testid=deployments]", data.deployments || [], function (d) {
      var a = el("a", { href: d.console_url, target: "_blank", rel: "noopener" }, "console");
      var task = d.task_id ? d.task_id + (d.task_status ? " (saw " + d.task_status + ")" : "") : null;
      return [d.deployed_model, badge(d.status), d.model_name, d.plan, task, a];
    });
    root.querySelector("[data-testid=updated]").textContent =
      "Updated " + new Date().toLocaleTimeString() + (data.refresh_seconds ? " · refreshing" : "");
    root.dataset.points = String(((data.training || {}).points || []).length);
    root.dataset.status = get(data, "job.status") || "";
  }

  function load() {
    fetch(root.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status + " " + r.statusText);
        return r.json();
      })
      .then(function (data) {
        render(data);
        if (data.refresh_seconds) setTimeout(load, data.refresh_seconds * 1000);
      })
      .catch(function (e) {
        var error = root.querySelector("[data-testid=error]");
        error.hidden = false; error.textContent = String(e.message || e);
        setTimeout(load, 10000);
      });
  }
  root.querySelectorAll("[data-axis]").forEach(function (b) {
    b.addEventListener("click", function () {
      axis = b.dataset.axis;
      root.querySelectorAll("[data-axis]").forEach(function (o) { o.classList.toggle("on", o === b); });
      if (last) drawChart(last.training);
    });
  });
  load();
})();
