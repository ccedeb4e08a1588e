/* The DashScope pages' shared script: formatting (times in Airflow's timezone, 24-hour),
 * plain-SVG charts drawn on the ticks the server chose, tables, the refresh loop, and links
 * that open in the surrounding Airflow UI. Each tab's own script (tab.js, evaluation.js)
 * uses window.DashScope. Every URL is relative: the pages live under Airflow's base URL,
 * inside an iframe of Airflow's UI. */
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

  /* The zone Airflow's UI shows times in: the user's pick (Airflow keeps it in this origin's
   * storage under "timezone", JSON-encoded), else the browser's own zone (Airflow 3's UI
   * default), else [core] default_timezone from the server. */
  function validZone(name) {
    try { new Intl.DateTimeFormat("en-GB", { timeZone: name }); return true; } catch (e) { return false; }
  }
  function zone() {
    var picked = null;
    try {
      picked = window.localStorage.getItem("timezone");
      if (picked) { try { picked = JSON.parse(picked); } catch (e) { /* stored bare */ } }
    } catch (e) { picked = null; }
    if (typeof picked === "string" && picked && validZone(picked)) return picked;
    var browser = null;
    try { browser = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { browser = null; }
    if (browser && validZone(browser)) return browser;
    var configured = document.body.dataset.timezone || "UTC";
    return validZone(configured) ? configured : "UTC";
  }
  function parts(d, withDate) {
    var opts = { timeZone: zone(), hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
    if (withDate) { opts.year = "numeric"; opts.month = "2-digit"; opts.day = "2-digit"; }
    var out = {};
    new Intl.DateTimeFormat("en-GB", opts).formatToParts(d).forEach(function (p) { out[p.type] = p.value; });
    if (out.hour === "24") out.hour = "00";
    return out;
  }
  /* "2025-01-31 17:05:09", like Airflow's UI. */
  function fmtTime(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    if (isNaN(d)) return iso;
    var p = parts(d, true);
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second;
  }
  function fmtClock(d) {
    var p = parts(d, false);
    return p.hour + ":" + p.minute + ":" + p.second;
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
  function stateClass(status) {
    return "badge s-" + String(status || "").toLowerCase().replace(/\s+/g, "-");
  }
  function badge(status) {
    return el("span", { "class": stateClass(status) }, status || "—");
  }
  function fillTable(body, rows, cells, columns) {
    body.textContent = "";
    if (!rows.length) {
      var tr = el("tr"); tr.appendChild(el("td", { colspan: columns || 6, "class": "empty" }, "None yet."));
      body.appendChild(tr); return;
    }
    rows.forEach(function (row) {
      var tr = el("tr");
      cells(row, tr).forEach(function (cell) {
        var td = el("td");
        if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell == null ? "—" : cell;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  function tickText(v) { return String(Math.round(v * 1e6) / 1e6); }

  /* Curves on the server's ticks. series: [{points, key ("train_loss"|"val_loss"), cls,
   * title, width}]; axes: {loss: [...], step: [...], epoch: [...]}; axis: "step"|"epoch". */
  function drawCurves(box, series, axes, axis, stepsPerEpoch) {
    box.textContent = "";
    if (!axes) {
      box.appendChild(el("p", { "class": "empty", "data-testid": "no-points" }, "No loss logged yet."));
      return null;
    }
    var xt = axes[axis], yt = axes.loss;
    var W = Math.max(box.clientWidth || 720, 360), H = 280, M = { l: 56, r: 16, t: 12, b: 40 };
    var x0 = xt[0], x1 = xt[xt.length - 1], y0 = yt[0], y1 = yt[yt.length - 1];
    var sx = function (v) { return M.l + (v - x0) / ((x1 - x0) || 1) * (W - M.l - M.r); };
    var sy = function (v) { return H - M.b - (v - y0) / ((y1 - y0) || 1) * (H - M.t - M.b); };
    var svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H,
      role: "img", "aria-label": "loss by " + axis });
    yt.forEach(function (v) {
      svg.appendChild(el("svg:line", { x1: M.l, x2: W - M.r, y1: sy(v), y2: sy(v), "class": "grid" }));
      svg.appendChild(el("svg:text", { x: M.l - 6, y: sy(v) + 4, "class": "tick y", "text-anchor": "end" }, tickText(v)));
    });
    xt.forEach(function (v) {
      svg.appendChild(el("svg:text", { x: sx(v), y: H - M.b + 16, "class": "tick x", "text-anchor": "middle" }, tickText(v)));
    });
    if (axis === "step" && stepsPerEpoch) {
      for (var s = stepsPerEpoch; s < x1; s += stepsPerEpoch) {
        svg.appendChild(el("svg:line", { x1: sx(s), x2: sx(s), y1: M.t, y2: H - M.b, "class": "epoch" }));
      }
    }
    svg.appendChild(el("svg:text", { x: (W + M.l) / 2, y: H - 6, "class": "label", "text-anchor": "middle" }, axis));
    series.forEach(function (line) {
      var pts = (line.points || []).filter(function (p) { return p[line.key] != null && p[axis] != null; });
      if (!pts.length) return;
      var d = pts.map(function (p, k) {
        return (k ? "L" : "M") + sx(p[axis]).toFixed(1) + "," + sy(p[line.key]).toFixed(1);
      }).join(" ");
      var path = el("svg:path", { d: d, "class": "line " + line.cls });
      if (line.color) path.style.stroke = line.color;
      if (line.width) path.style.strokeWidth = line.width;
      svg.appendChild(path);
      if (line.dots === false) return;
      pts.forEach(function (p) {
        var c = el("svg:circle", { cx: sx(p[axis]), cy: sy(p[line.key]), r: 3,
          "class": "pt " + line.cls, "data-step": p.step });
        if (line.color) c.style.fill = line.color;
        c.appendChild(el("svg:title", {}, (line.title || line.cls) + " " + p[line.key] +
          " at step " + p.step + (p.epoch != null ? ", epoch " + p.epoch : "")));
        svg.appendChild(c);
      });
    });
    box.appendChild(svg);
    return svg;
  }

  /* Intervals (mean with low..high whiskers) on one axis; rows: [{label, mean, low, high, cls}]. */
  function drawIntervals(box, rows, ticks, zeroLine) {
    box.textContent = "";
    var W = Math.max(box.clientWidth || 640, 320), row = 30, M = { l: 120, r: 20, t: 8, b: 28 };
    var H = M.t + M.b + row * rows.length;
    var x0 = ticks[0], x1 = ticks[ticks.length - 1];
    var sx = function (v) { return M.l + (v - x0) / ((x1 - x0) || 1) * (W - M.l - M.r); };
    var svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img" });
    ticks.forEach(function (v) {
      svg.appendChild(el("svg:line", { x1: sx(v), x2: sx(v), y1: M.t, y2: H - M.b, "class": "grid" }));
      svg.appendChild(el("svg:text", { x: sx(v), y: H - 10, "class": "tick x", "text-anchor": "middle" }, tickText(v)));
    });
    if (zeroLine) svg.appendChild(el("svg:line", { x1: sx(0), x2: sx(0), y1: M.t, y2: H - M.b, "class": "zero" }));
    rows.forEach(function (r, i) {
      var y = M.t + row * i + row / 2;
      svg.appendChild(el("svg:text", { x: M.l - 8, y: y + 4, "class": "label", "text-anchor": "end" }, r.label));
      if (r.mean == null) return;
      var g = el("svg:g", { "class": "interval " + (r.cls || ""), "data-label": r.label });
      if (r.low != null && r.high != null) {
        g.appendChild(el("svg:line", { x1: sx(r.low), x2: sx(r.high), y1: y, y2: y, "class": "whisker" }));
        [r.low, r.high].forEach(function (v) {
          g.appendChild(el("svg:line", { x1: sx(v), x2: sx(v), y1: y - 6, y2: y + 6, "class": "whisker" }));
        });
      }
      var dot = el("svg:circle", { cx: sx(r.mean), cy: y, r: 5, "class": "mean" });
      dot.appendChild(el("svg:title", {}, r.label + ": " + fmtNumber(r.mean) +
        (r.low != null ? " [" + fmtNumber(r.low) + ", " + fmtNumber(r.high) + "]" : "")));
      g.appendChild(dot);
      svg.appendChild(g);
    });
    box.appendChild(svg);
  }

  /* Fetch the page's JSON and render it; again while the server asks to refresh. */
  function poll(root, render) {
    function showError(message) {
      var error = root.querySelector("[data-testid=error]");
      if (error) { error.hidden = false; error.textContent = message; }
    }
    function load() {
      fetch(root.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status + " " + r.statusText);
          return r.json();
        })
        .then(function (data) {
          render(data);
          var updated = root.querySelector("[data-testid=updated]");
          if (updated) {
            updated.textContent = "Updated " + fmtClock(new Date()) + " (" + zone() + ")" +
              (data.refresh_seconds ? " · refreshing" : "");
          }
          if (data.refresh_seconds) setTimeout(load, data.refresh_seconds * 1000);
        })
        .catch(function (e) { showError(String(e.message || e)); setTimeout(load, 10000); });
    }
    load();
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

  window.DashScope = {
    get: get, el: el, badge: badge, stateClass: stateClass, fillTable: fillTable, poll: poll, zone: zone,
    fmtNumber: fmtNumber, fmtTime: fmtTime, fmtClock: fmtClock, fmtDuration: fmtDuration,
    drawCurves: drawCurves, drawIntervals: drawIntervals
  };
})();
