/* esgledger pages: the only script besides the vendored htmx and ECharts. No inline script
   anywhere (the Content-Security-Policy forbids it): charts read their option from a
   <script type="application/json"> element beside their canvas. Everything that only reads
   works without this file; the tables beside the charts are the fallback. */
(function () {
  "use strict";

  function drawCharts(root) {
    if (typeof window.echarts === "undefined") { return; }
    var lang = document.documentElement.lang === "zh-CN" ? "ZH" : "EN";
    var canvases = root.querySelectorAll("[data-chart]");
    for (var i = 0; i < canvases.length; i++) {
      var canvas = canvases[i];
      if (canvas.getAttribute("data-drawn") === "1") { continue; }
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) { continue; }
      var option;
      try { option = JSON.parse(source.textContent); } catch (e) { continue; }
      canvas.hidden = false;
      var chart = window.echarts.init(canvas, null, { locale: lang, renderer: "svg" });
      chart.setOption(option);
      canvas.setAttribute("data-drawn", "1");
      var figure = canvas.closest(".chart");
      if (figure) { figure.classList.add("has-canvas"); }
      addTableToggle(figure);
      (function (c) { window.addEventListener("resize", function () { c.resize(); }); })(chart);
      var links = option.esgledgerLinks;
      if (links) {
        (function (map) {
          chart.on("click", function (params) {
            var href = map[params.name];
            if (href) { window.location.assign(href); }
          });
        })(links);
      }
    }
  }

  function addTableToggle(figure) {
    if (!figure || figure.querySelector(".table-toggle")) { return; }
    var table = figure.querySelector(".chart-table");
    var label = figure.getAttribute("data-table-label") || document.body.getAttribute("data-show-table") || "Table";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "table-toggle link-button";
    button.textContent = label;
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", function () {
      var shown = table.classList.toggle("shown");
      button.setAttribute("aria-expanded", shown ? "true" : "false");
    });
    figure.insertBefore(button, table);
  }

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target || document); });
})();
