// Dashboards: each report's canvas drawn with Chart.js (served with the app) from the data
// the server put beside it. "funnel" is a horizontal bar chart in the rows' order.
(function () {
  if (!window.Chart) return;
  const palette = ["#1f7a8c", "#e07a5f", "#3d405b", "#81b29a", "#f2cc8f", "#6d597a", "#b56576"];
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const data = JSON.parse(source.textContent);
    const kind = canvas.dataset.kind;
    const round = kind === "pie";
    data.datasets.forEach((dataset, index) => {
      const colour = palette[index % palette.length];
      dataset.backgroundColor = round ? data.labels.map((_, i) => palette[i % palette.length]) : colour;
      dataset.borderColor = round ? "#fff" : colour;
    });
    new window.Chart(canvas, {
      type: kind === "funnel" ? "bar" : kind,
      data,
      options: {
        indexAxis: kind === "funnel" ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: data.datasets.length > 1 || round } },
        scales: round ? {} : { x: { beginAtZero: true }, y: { beginAtZero: true } },
      },
    });
  });
})();
