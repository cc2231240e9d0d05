// bridgesim timeline: draws each timeline's SVG from its embedded JSON (see
// crates/bridgesim/src/timeline/mod.rs for the data). No network, no library.
(function () {
  "use strict";
  var errors = 0;
  function markErrors() {
    document.body.setAttribute("data-errors", String(errors));
  }
  window.addEventListener("error", function () {
    errors += 1;
    markErrors();
  });
  function safe(f) {
    try {
      f();
    } catch (e) {
      errors += 1;
      if (window.console) console.error(e);
    }
    markErrors();
  }

  var NS = "http://www.w3.org/2000/svg";
  var LABEL_W = 330, AXIS = 22, LANE = 22, HEAD = 20, ROW = 26, BAND = 12;

  function svg(tag, attrs, parent, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) {
      if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    }
    if (text !== undefined && text !== null) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function html(tag, cls, parent, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function title(parent, text) {
    svg("title", {}, parent, text);
  }
  function stackOf(d, p) {
    var out = [];
    while (p > 0 && p < d.paths.length) {
      out.push(d.paths[p][1]);
      p = d.paths[p][0];
    }
    return out.reverse();
  }
  function clip(s, n) {
    return s.length > n ? s.slice(0, n - 1) + "…" : s;
  }
  function tickEvery(sx) {
    var c = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];
    for (var i = 0; i < c.length; i++) if (c[i] * sx >= 70) return c[i];
    return 100000;
  }

  // Pack bands into rows so that neither bars nor owner labels overlap.
  function packBands(refs, x, n) {
    var ends = [], rows = [];
    refs.forEach(function (b, i) {
      var from = x(b.from);
      var to = Math.max(x(b.to === null ? n : b.to), from + 6 * b.owner.length + 8);
      var r = 0;
      while (r < ends.length && ends[r] > from) r++;
      ends[r] = to + 4;
      rows[i] = r;
    });
    return { rows: rows, count: ends.length };
  }

  function draw(details) {
    var host = details.querySelector(".tl-chart");
    if (host.getAttribute("data-drawn")) return;
    var data = JSON.parse(document.getElementById(details.getAttribute("data-src")).textContent);
    var n = data.steps.length / 4;
    var state = { sx: Math.max(0.5, Math.min(12, 1600 / Math.max(n, 1))), pinned: false };
    build(host, data, details.parentNode.id, n, state);
    host.setAttribute("data-drawn", "1");
  }

  function build(host, d, id, n, state) {
    while (host.firstChild) host.removeChild(host.firstChild);
    var sx = state.sx;
    function x(step) {
      return 4 + step * sx;
    }
    var W = Math.ceil(x(n) + 24);
    var tidOf = function (i) { return d.steps[i * 4]; };

    // Toolbar and legend.
    var bar = html("div", "toolbar", host);
    var zin = html("button", "zoom", bar, "zoom in");
    var zout = html("button", "zoom", bar, "zoom out");
    zin.type = zout.type = "button";
    zin.addEventListener("click", function () {
      state.sx = Math.min(64, state.sx * 2);
      safe(function () { build(host, d, id, n, state); });
    });
    zout.addEventListener("click", function () {
      state.sx = Math.max(0.05, state.sx / 2);
      safe(function () { build(host, d, id, n, state); });
    });
    html("span", "legend", bar,
      "bar: object alive (allocation → free); step line: refcount; bands below: references, " +
      "get → put, labelled with their owner; ticks: accesses (red after the end); " +
      "red line: a violation. Hover the chart for a step's call stack; click to pin.");

    // Layout: axis, thread lanes, a heading, lifelines.
    var y = AXIS;
    var laneY = d.threads.map(function (_, t) { return y + t * LANE; });
    y += d.threads.length * LANE + 6;
    var objHead = y;
    y += HEAD;
    var lines = d.lifelines.map(function (l) {
      var p = packBands(l.refs, x, n);
      var h = ROW + p.count * BAND + 6;
      var r = { top: y, h: h, pack: p };
      y += h;
      return r;
    });
    var H = y + 8;

    var wrap = html("div", "tl-wrap", host);
    var labels = svg("svg", { "class": "labels", width: LABEL_W, height: H }, wrap);
    var scroll = html("div", "tl-scroll", wrap);
    var chart = svg("svg", { "class": "chart", width: W, height: H }, scroll);
    var info = html("div", "info", host, "Hover the chart to see a step; click to pin it.");

    // Axis.
    var every = tickEvery(sx);
    var axis = svg("g", { "class": "axis" }, chart);
    for (var s = 0; s <= n; s += every) {
      svg("line", { x1: x(s), x2: x(s), y1: AXIS - 6, y2: H, "class": "grid" }, axis);
      svg("text", { x: x(s) + 2, y: AXIS - 9 }, axis, String(s));
    }
    svg("text", { x: 6, y: AXIS - 9, "class": "head" }, labels, "step →");

    // Thread lanes: one rect per run of consecutive steps, a line at each switch.
    var lanes = d.threads.map(function (name, t) {
      var g = svg("g", { "class": "lane", id: id + "-lane-" + t, "data-tid": t }, chart);
      svg("rect", { x: 0, y: laneY[t], width: W, height: LANE, "class": "lane-bg" }, g);
      var lt = svg("text", { x: 6, y: laneY[t] + 15, "class": "lane-label t" + (t % 8) }, labels,
        clip("thread " + t + ": " + name, 46));
      title(lt, name);
      return g;
    });
    var switches = svg("g", { "class": "switches" }, chart);
    var start = 0;
    for (var i = 1; i <= n; i++) {
      if (i === n || tidOf(i) !== tidOf(start)) {
        var t = tidOf(start);
        var r = svg("rect", {
          x: x(start), y: laneY[t] + 3, width: Math.max(1, x(i) - x(start)), height: 10,
          "class": "run t" + (t % 8)
        }, lanes[t]);
        title(r, d.threads[t] + ": steps " + start + "–" + (i - 1));
        if (i < n) {
          var a = laneY[t] + 8, b = laneY[tidOf(i)] + 8;
          svg("line", { x1: x(i), x2: x(i), y1: Math.min(a, b), y2: Math.max(a, b), "class": "switch" },
            switches);
        }
        start = i;
      }
    }
    // Lock and SRCU sections under their thread's runs.
    d.sections.forEach(function (sec) {
      if (sec.tid >= lanes.length) return;
      var to = sec.to === null ? n : sec.to;
      var r = svg("rect", {
        x: x(sec.from), y: laneY[sec.tid] + 15, width: Math.max(1, x(to) - x(sec.from)), height: 4,
        "class": "section " + sec.kind + (sec.to === null ? " open" : "")
      }, lanes[sec.tid]);
      title(r, sec.label + ": steps " + sec.from + "–" + (sec.to === null ? "end (still held)" : sec.to));
    });

    // Lifelines.
    svg("text", { x: 6, y: objHead + 14, "class": "head" }, labels, "objects");
    d.lifelines.forEach(function (l, li) {
      var L = lines[li], top = L.top;
      var end = l.end === null ? n : l.end;
      var g = svg("g", {
        "class": "lifeline cat-" + l.category, id: id + "-obj-" + l.obj, "data-obj": l.obj,
        "data-start": l.start, "data-end": l.end === null ? "" : l.end
      }, chart);
      svg("rect", { x: 0, y: top, width: W, height: L.h, "class": li % 2 ? "stripe odd" : "stripe" }, g);
      var lab = svg("text", { x: 6, y: top + 16, "class": "obj-label cat-" + l.category }, labels,
        clip(l.label, 50));
      title(lab, l.category.replace("_", " ") + ": " + l.label);
      var life = svg("rect", {
        x: x(l.start), y: top + ROW - 8, width: Math.max(2, x(end) - x(l.start)), height: 5,
        "class": "life"
      }, g);
      title(life, l.label + ": from step " + l.start +
        (l.end === null ? " to the end" : " to step " + l.end + " (" + l.end_kind + ")"));
      if (l.end !== null) {
        var e = svg("line", { x1: x(l.end), x2: x(l.end), y1: top + 2, y2: top + ROW - 2, "class": "end" }, g);
        title(e, (l.end_kind === "kfree" ? "kfree" : "device_del") + " at step " + l.end);
      }
      if (l.counts.length) {
        var maxc = 1;
        l.counts.forEach(function (c) { maxc = Math.max(maxc, c[1]); });
        var base = top + ROW - 9, ky = (ROW - 13) / maxc;
        var dpath = "M" + x(l.counts[0][0]) + " " + base;
        l.counts.forEach(function (c) {
          dpath += " H" + x(c[0]) + " V" + (base - c[1] * ky);
        });
        dpath += " H" + x(end);
        var cp = svg("path", { d: dpath, "class": "count" }, g);
        title(cp, "refcount: " + l.counts.map(function (c) { return c[1] + "@" + c[0]; }).join(", "));
      }
      l.accesses.forEach(function (a) {
        var after = l.end !== null && a[0] > l.end;
        var t = svg("rect", {
          x: x(a[0]), y: top + 3, width: Math.max(1, sx), height: ROW - 8,
          "class": "acc t" + (a[1] % 8) + (after ? " after" : "")
        }, g);
        if (after) title(t, "step " + a[0] + ": " + d.kinds[a[2]] + " by " + d.threads[a[1]] + " after the end");
      });
      l.refs.forEach(function (b, bi) {
        var ry = top + ROW + L.pack.rows[bi] * BAND;
        var to = b.to === null ? n : b.to;
        var bg = svg("g", { "class": "ref" + (b.to === null ? " held" : "") }, g);
        svg("rect", { x: x(b.from), y: ry, width: Math.max(2, x(to) - x(b.from)), height: BAND - 3, "class": "band" }, bg);
        svg("text", { x: x(b.from) + 2, y: ry + BAND - 4, "class": "owner" }, bg, b.owner);
        title(bg, b.owner + ": get at step " + b.from + ", " +
          (b.to === null ? "still held at the end" : "put at step " + b.to));
      });
    });

    // Violations: a line across, a marker on the object's lifeline and on the thread's lane.
    var vg = svg("g", { "class": "violations" }, chart);
    d.violations.forEach(function (v, vi) {
      var vx = x(v.step) + Math.max(1, sx) / 2;
      svg("line", { x1: vx, x2: vx, y1: AXIS - 4, y2: H, "class": "vline" }, vg);
      var target = v.lifeline === null ? null : lines[v.lifeline];
      var my = target ? target.top + ROW / 2 - 2 : laneY[v.tid] + 8;
      var a = svg("a", { href: "#" + id + "-v-" + vi }, vg);
      var m = svg("g", {
        "class": "violation-marker", "data-kind": v.kind, "data-step": v.step,
        "data-obj": v.lifeline === null ? "" : d.lifelines[v.lifeline].obj
      }, a);
      svg("circle", { cx: vx, cy: my, r: 6 }, m);
      svg("text", { x: vx + 9, y: my + 4, "class": "vlabel" }, m, v.kind);
      title(m, v.kind + (v.object ? " in " + v.object : "") + ": " + v.message + " (step " + v.step + ")");
      if (v.tid < lanes.length) {
        var acc = svg("circle", { cx: vx, cy: laneY[v.tid] + 8, r: 4, "class": "violation-access" }, vg);
        title(acc, "the access: step " + v.step + " by " + d.threads[v.tid]);
      }
    });

    // Open at the first violation (kept at about 60% of the view), else at the start.
    if (d.violations.length && state.scrolled === undefined) {
      state.scrolled = true;
      scroll.scrollLeft = Math.max(0, x(d.violations[0].step) - scroll.clientWidth * 0.6);
    }

    // Hover and click: the step under the pointer, with its call stack.
    function show(evt) {
      var rect = chart.getBoundingClientRect();
      var step = Math.floor((evt.clientX - rect.left - 4) / sx);
      if (step < 0 || step >= n) return;
      var t = d.steps[step * 4], o = d.steps[step * 4 + 1], k = d.steps[step * 4 + 2];
      var st = stackOf(d, d.steps[step * 4 + 3]);
      info.textContent = "";
      html("b", null, info, "step " + step);
      html("span", null, info, " · thread " + t + " (" + d.threads[t] + ") · " + d.kinds[k] + " of " +
        (d.objects[o] || "object #" + o));
      html("div", "stack", info, st.length ? st.join(" → ") : "(thread entry)");
      info.setAttribute("data-step", String(step));
    }
    chart.addEventListener("mousemove", function (evt) {
      if (!state.pinned) show(evt);
    });
    chart.addEventListener("click", function (evt) {
      state.pinned = !state.pinned;
      show(evt);
      info.classList.toggle("pinned", state.pinned);
    });
  }

  // Open (and draw) the timeline an anchor points into, then scroll to the target.
  function follow() {
    var h = decodeURIComponent(window.location.hash.slice(1));
    if (!h) return;
    var target = document.getElementById(h);
    var m = /^(tl-\d+)/.exec(h);
    if (!m) return;
    var sec = document.getElementById(m[1]);
    var det = sec ? sec.querySelector("details.chart") : null;
    if (det && !det.open) {
      det.open = true;
      safe(function () { draw(det); });
    }
    target = document.getElementById(h);
    if (target && target.scrollIntoView) target.scrollIntoView({ block: "center" });
  }

  var charts = document.querySelectorAll("details.chart");
  Array.prototype.forEach.call(charts, function (det) {
    det.addEventListener("toggle", function () {
      if (det.open) safe(function () { draw(det); });
    });
    if (det.open) safe(function () { draw(det); });
  });
  window.addEventListener("hashchange", function () { safe(follow); });
  safe(follow);
  document.body.setAttribute("data-drawn",
    String(document.querySelectorAll(".tl-chart[data-drawn]").length));
  markErrors();
})();
