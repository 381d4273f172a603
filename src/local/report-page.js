// The report's charts, drawn by Chart.js (a global of its inlined UMD build) from the aggregates embedded in
// #report-data. Runs in the browser, from disk: no module, no fetch. Colours follow prefers-color-scheme and
// switch to the light palette for printing.
(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const Chart = window.Chart;

  const PALETTES = {
    light: {
      text: '#1f2328',
      grid: 'rgba(31, 35, 40, 0.12)',
      series: ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'],
      accept: '#2ca02c',
      reject: '#d62728',
      severity: { critical: '#d62728', warning: '#ff7f0e', info: '#1f77b4' },
      heat: [31, 119, 180],
    },
    dark: {
      text: '#e6edf3',
      grid: 'rgba(230, 237, 243, 0.16)',
      series: ['#58a6ff', '#ffa657', '#56d364', '#d2a8ff', '#e3b341', '#ff7b72', '#39c5cf', '#8b949e'],
      accept: '#56d364',
      reject: '#ff7b72',
      severity: { critical: '#ff7b72', warning: '#ffa657', info: '#58a6ff' },
      heat: [88, 166, 255],
    },
  };

  const dark = window.matchMedia('(prefers-color-scheme: dark)');
  let charts = [];

  function bytes(value) {
    const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
    let n = Math.abs(value);
    let unit = 0;
    while (n >= 1000 && unit < units.length - 1) {
      n /= 1000;
      unit++;
    }
    return `${(Math.sign(value) * n).toFixed(n >= 100 || unit === 0 ? 0 : 1)} ${units[unit]}`;
  }

  function count(value) {
    return Number(value).toLocaleString('en-US');
  }

  function timeLabel(seconds, withDay) {
    const iso = new Date(seconds * 1000).toISOString();
    return withDay ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
  }

  function base(palette, extra) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { labels: { color: palette.text } }, ...(extra.plugins || {}) },
      ...extra.options,
    };
  }

  function axis(palette, options) {
    return { ticks: { color: palette.text }, grid: { color: palette.grid }, ...options };
  }

  function make(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas) return;
    charts.push(new Chart(canvas, config));
  }

  function flaggedMarkers(palette) {
    return data.traffic.flagged.map((series) => ({
      type: 'line',
      label: `flagged: ${series.severity}`,
      data: series.flows.map((n) => (n > 0 ? n : null)),
      yAxisID: 'flagged',
      showLine: false,
      pointStyle: 'triangle',
      pointRadius: 7,
      pointHoverRadius: 9,
      borderColor: palette.severity[series.severity] || palette.text,
      backgroundColor: palette.severity[series.severity] || palette.text,
      order: 0,
    }));
  }

  function trafficCharts(palette) {
    const t = data.traffic;
    const withDay = t.bins.length > 0 && t.bins[t.bins.length - 1] - t.bins[0] >= 86400;
    const labels = t.bins.map((bin) => timeLabel(bin, withDay));
    const scales = (yTitle, format) => ({
      x: axis(palette, { stacked: true }),
      y: axis(palette, {
        stacked: true,
        title: { display: true, text: yTitle, color: palette.text },
        ticks: { color: palette.text, callback: format },
      }),
      flagged: axis(palette, {
        position: 'right',
        beginAtZero: true,
        grid: { drawOnChartArea: false },
        title: { display: true, text: 'flagged flows', color: palette.text },
      }),
    });
    make('chart-traffic-bytes', {
      type: 'bar',
      data: {
        labels,
        datasets: [
          ...flaggedMarkers(palette),
          ...t.tiers.map((tier, i) => ({
            label: tier.name,
            data: tier.bytes,
            backgroundColor: palette.series[i % palette.series.length],
            stack: 'bytes',
            order: 1,
          })),
        ],
      },
      options: base(palette, {
        options: {
          scales: scales('bytes', bytes),
          plugins: {
            legend: { labels: { color: palette.text } },
            tooltip: {
              callbacks: {
                label: (c) =>
                  `${c.dataset.label}: ${c.dataset.yAxisID === 'flagged' ? count(c.raw) : bytes(c.raw)}`,
              },
            },
          },
        },
      }),
    });
    make('chart-traffic-flows', {
      type: 'bar',
      data: {
        labels,
        datasets: [
          ...flaggedMarkers(palette),
          ...t.actions.map((action, i) => ({
            label: action.name,
            data: action.flows,
            backgroundColor:
              action.name === 'ACCEPT'
                ? palette.accept
                : action.name === 'REJECT'
                  ? palette.reject
                  : palette.series[(i + 3) % palette.series.length],
            stack: 'flows',
            order: 1,
          })),
        ],
      },
      options: base(palette, { options: { scales: scales('flows', count) } }),
    });
  }

  function matrixChart(palette) {
    const cells = data.matrix;
    const order = (key) => [...new Set(cells.map((c) => c[key]))].sort();
    const xs = order('dst_tier');
    const ys = order('src_tier');
    const max = Math.max(1, ...cells.map((c) => Number(c.flows)));
    const [r, g, b] = palette.heat;
    make('chart-matrix', {
      type: 'matrix',
      data: {
        datasets: [
          {
            label: 'connections',
            data: cells.map((c) => ({
              x: c.dst_tier,
              y: c.src_tier,
              v: Number(c.flows),
              bytes: Number(c.total_bytes),
            })),
            backgroundColor: (ctx) => {
              const v = ctx.raw ? ctx.raw.v : 0;
              const alpha = 0.15 + (0.85 * Math.log(1 + v)) / Math.log(1 + max);
              return `rgba(${r}, ${g}, ${b}, ${alpha.toFixed(3)})`;
            },
            borderColor: palette.grid,
            borderWidth: 1,
            width: ({ chart }) => (chart.chartArea ? chart.chartArea.width / xs.length - 2 : 10),
            height: ({ chart }) => (chart.chartArea ? chart.chartArea.height / ys.length - 2 : 10),
          },
        ],
      },
      options: base(palette, {
        options: {
          scales: {
            x: axis(palette, {
              type: 'category',
              labels: xs,
              offset: true,
              grid: { display: false },
              title: { display: true, text: 'to', color: palette.text },
            }),
            y: axis(palette, {
              type: 'category',
              labels: ys,
              offset: true,
              reverse: true,
              grid: { display: false },
              title: { display: true, text: 'from', color: palette.text },
            }),
          },
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                title: () => '',
                label: (c) => `${c.raw.y} → ${c.raw.x}: ${count(c.raw.v)} connections, ${bytes(c.raw.bytes)}`,
              },
            },
          },
        },
      }),
    });
  }

  function horizontalBars(id, palette, labels, datasets, format) {
    make(id, {
      type: 'bar',
      data: { labels, datasets },
      options: base(palette, {
        options: {
          indexAxis: 'y',
          scales: {
            x: axis(palette, { stacked: true, ticks: { color: palette.text, callback: format } }),
            y: axis(palette, { stacked: true }),
          },
          plugins: {
            legend: { display: datasets.length > 1, labels: { color: palette.text } },
            tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${format(c.raw)}` } },
          },
        },
      }),
    });
  }

  function barCharts(palette) {
    const top = (rows, n) => rows.slice(0, n);
    const talkers = top(data.topTalkers, 10);
    horizontalBars(
      'chart-talkers',
      palette,
      talkers.map((r) => `${r.srcaddr} → ${r.dstaddr}`),
      [
        {
          label: 'bytes',
          data: talkers.map((r) => Number(r.total_bytes)),
          backgroundColor: palette.series[0],
        },
      ],
      bytes,
    );
    const ports = top(data.rejectedPorts, 15);
    horizontalBars(
      'chart-rejected-ports',
      palette,
      ports.map((r) => `${r.dstport}/${r.protocol_name}`),
      [
        {
          label: 'rejected flows',
          data: ports.map((r) => Number(r.attempts)),
          backgroundColor: palette.reject,
        },
      ],
      count,
    );
    const flags = [...new Set(data.flags.map((r) => r.flag))];
    const severities = ['critical', 'warning', 'info'].filter((s) =>
      data.flags.some((r) => r.severity === s),
    );
    horizontalBars(
      'chart-flags',
      palette,
      flags,
      severities.map((severity) => ({
        label: severity,
        data: flags.map((flag) => {
          const row = data.flags.find((r) => r.flag === flag && r.severity === severity);
          return row ? Number(row.flows) : 0;
        }),
        backgroundColor: palette.severity[severity],
      })),
      count,
    );
    const services = top(data.services, 15);
    horizontalBars(
      'chart-services',
      palette,
      services.map((r) => r.aws_service),
      [
        {
          label: 'bytes',
          data: services.map((r) => Number(r.total_bytes)),
          backgroundColor: palette.series[1],
        },
      ],
      bytes,
    );
    const peers = top(data.peerCountries, 15);
    horizontalBars(
      'chart-peers',
      palette,
      peers.map((r) => r.country),
      [{ label: 'bytes', data: peers.map((r) => Number(r.total_bytes)), backgroundColor: palette.series[2] }],
      bytes,
    );
    const results = data.health.results;
    horizontalBars(
      'chart-results',
      palette,
      results.map((r) => r.result),
      [
        {
          label: 'lines',
          data: results.map((r) => Number(r.records)),
          backgroundColor: results.map((r) => (r.result === 'Ok' ? palette.accept : palette.reject)),
        },
      ],
      count,
    );
    const enrichment = data.health.enrichment;
    horizontalBars(
      'chart-enrichment',
      palette,
      enrichment.map((r) => r.enrichment_status),
      [
        {
          label: 'flows',
          data: enrichment.map((r) => Number(r.flows)),
          backgroundColor: enrichment.map((r) =>
            r.enrichment_status === 'ok' ? palette.accept : palette.series[1],
          ),
        },
      ],
      count,
    );
  }

  function render(scheme) {
    for (const chart of charts) chart.destroy();
    charts = [];
    const palette = PALETTES[scheme];
    Chart.defaults.color = palette.text;
    Chart.defaults.borderColor = palette.grid;
    trafficCharts(palette);
    matrixChart(palette);
    barCharts(palette);
    document.body.dataset.charts = String(charts.length);
  }

  const current = () => (dark.matches ? 'dark' : 'light');
  render(current());
  dark.addEventListener('change', () => render(current()));
  // Paper is white whatever the screen's scheme.
  window.addEventListener('beforeprint', () => render('light'));
  window.addEventListener('afterprint', () => render(current()));
})();
