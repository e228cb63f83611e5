/* The Reports page's charts: each table with a chart hint is drawn above it by Chart.js (vendored, served by the
   app) from the report's JSON in the page (#report-data, the same figures as the tables). Without this script, or
   without Chart.js, the page shows the tables only. Each chart is an image whose description is its table. */
(function () {
  "use strict";

  var UNIT_WORDS = { min: "minutes", h: "hours", s: "seconds", share: "%", count: "count" };
  // Okabe–Ito colours, told apart by most people with a colour vision deficiency; lines also differ by dash
  var COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8a6100", "#56B4E9", "#14181f", "#7a4d00"];
  var DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
  var MAX_DATASETS = 12;

  function readData() {
    var element = document.getElementById("report-data");
    if (!element) { return null; }
    try { return JSON.parse(element.textContent); } catch (e) { return null; }
  }

  function labelOf(key, value, labels) {
    if (value === null || value === undefined || value === "") { return "—"; }
    var text = String(value);
    if ((key === "channel" || /_channel$/.test(key)) && labels.channels && labels.channels[text]) {
      return labels.channels[text];
    }
    var day = /^(\d{4})-(\d{2})-(\d{2})( \d{2}:\d{2})?$/.exec(text);
    if (day) {
      var d = new Date(Date.UTC(+day[1], +day[2] - 1, +day[3]));
      var shown = d.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }) +
        (day[4] || "");
      return labels.week && key === "period" ? "Week of " + shown : shown;
    }
    return text;
  }

  function scaled(value, unit) {
    if (typeof value !== "number" || !isFinite(value)) { return null; }
    return unit === "share" ? Math.round(value * 1000) / 10 : value;
  }

  function formatted(value, unit) {
    if (value === null || value === undefined) { return "none"; }
    if (unit === "share") { return value + " %"; }
    if (unit === "min") { return Math.round(value) + " min"; }
    if (unit === "h") { return value.toFixed(1) + " h"; }
    if (unit === "s") { return Math.round(value) + " s"; }
    return value.toLocaleString("en-GB");
  }

  /* The chart's datasets: one per series and per combination of the table's other label columns (e.g. channel
     and desk), its points aligned on the x column's values in the order of the rows. */
  function datasetsOf(table, labels) {
    var chart = table.chart;
    var columns = {};
    table.columns.forEach(function (c) { columns[c.key] = c; });
    // the other label columns (channel, desk): text, never figures (a ratio has no unit but is a figure)
    // (one that has the same value in every row names nothing: left out of the lines' names)
    var groups = table.columns.filter(function (c) {
      var values = {};
      table.rows.forEach(function (row) { values[String(row[c.key])] = true; });
      return c.unit === null && c.key !== chart.x && chart.series.indexOf(c.key) < 0 &&
        table.rows.every(function (row) { return typeof row[c.key] !== "number"; }) &&
        table.rows.some(function (row) { return typeof row[c.key] === "string"; }) &&
        Object.keys(values).length > 1;
    });
    var xs = [];
    var xIndex = {};
    table.rows.forEach(function (row) {
      var x = labelOf(chart.x, row[chart.x], labels);
      if (!(x in xIndex)) { xIndex[x] = xs.length; xs.push(x); }
    });
    var sets = {};
    var order = [];
    table.rows.forEach(function (row) {
      var group = groups.map(function (g) { return labelOf(g.key, row[g.key], labels); }).join(" · ");
      chart.series.forEach(function (s) {
        var column = columns[s] || { label: s, unit: chart.unit };
        var name = chart.series.length > 1 ? column.label + (group ? " — " + group : "") : (group || column.label);
        if (!(name in sets)) {
          sets[name] = { label: name, unit: column.unit || chart.unit, data: xs.map(function () { return null; }) };
          order.push(name);
        }
        sets[name].data[xIndex[labelOf(chart.x, row[chart.x], labels)]] = scaled(row[s], column.unit || chart.unit);
      });
    });
    return { labels: xs, datasets: order.slice(0, MAX_DATASETS).map(function (name, i) {
      var set = sets[name];
      var colour = COLOURS[i % COLOURS.length];
      return {
        label: set.label, data: set.data, unit: set.unit, borderColor: colour, backgroundColor: colour,
        borderDash: chart.kind === "line" ? DASHES[i % DASHES.length] : [],
        borderWidth: 2, pointRadius: 3, spanGaps: true, tension: 0
      };
    }), truncated: order.length > MAX_DATASETS };
  }

  /* The legend's names, cut to fit the chart's width (a phone): the full name is in the tooltip and the table. */
  function fitted(chart) {
    var items = Chart.defaults.plugins.legend.labels.generateLabels(chart);
    var room = Math.max(12, Math.floor(chart.width / 7.5) - 4);
    items.forEach(function (item) {
      if (item.text.length > room) { item.text = item.text.slice(0, room - 1) + "…"; }
    });
    return items;
  }

  function draw(figure, table, labels) {
    var canvas = figure.querySelector("canvas");
    if (!canvas || !table || !table.chart || !table.rows.length) { return; }
    var built = datasetsOf(table, labels);
    var unit = table.chart.unit;
    figure.hidden = false;
    /* global Chart */
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = 13;
    Chart.defaults.color = "#4a5261";
    new Chart(canvas, {
      type: table.chart.kind,
      data: { labels: built.labels, datasets: built.datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { beginAtZero: true, title: { display: !!unit, text: UNIT_WORDS[unit] || unit || "" },
               ticks: { color: "#4a5261" } },
          x: { ticks: { color: "#4a5261", autoSkip: true, autoSkipPadding: 16, maxRotation: 0 } }
        },
        plugins: {
          legend: { position: "bottom", labels: { color: "#14181f", boxWidth: 14, generateLabels: fitted } },
          tooltip: { callbacks: { label: function (item) {
            return item.dataset.label + ": " + formatted(item.parsed.y, item.dataset.unit);
          } } }
        }
      }
    });
    if (built.truncated) {
      var note = document.createElement("figcaption");
      note.className = "hint";
      note.textContent = "The chart shows the first " + MAX_DATASETS + " lines; the table has them all.";
      figure.appendChild(note);
    }
  }

  function start() {
    var data = readData();
    if (!data || typeof window.Chart === "undefined") { return; }
    var byName = {};
    (data.tables || []).forEach(function (t) { byName[t.name] = t; });
    Array.prototype.forEach.call(document.querySelectorAll("figure.chart[data-table]"), function (figure) {
      var labels = data.labels || {};
      labels.week = data.by === "week";
      try { draw(figure, byName[figure.getAttribute("data-table")], labels); }
      catch (e) { figure.hidden = true; }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
