// Render every <script type="application/json" data-chart="ID"> figure into the element #ID.
(function () {
  function render() {
    document.querySelectorAll('script[type="application/json"][data-chart]').forEach(function (node) {
      var target = document.getElementById(node.dataset.chart);
      if (!target || !window.Plotly) { return; }
      var fig = JSON.parse(node.textContent);
      window.Plotly.newPlot(target, fig.data, fig.layout, {responsive: true, displaylogo: false});
      target.dataset.rendered = "1";
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", render); } else { render(); }
  document.addEventListener("htmx:afterSettle", render);
})();
