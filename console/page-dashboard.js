// Dashboard: the analytics summary and a daily chart of sent / verified / failed codes.
import { api, withQuery } from './api.js';
import { h, replace, field, select, pageHeader, alertBox, table } from './ui.js';
import { loadApplications, applicationFilter, routeQuery, setRouteQuery } from './data.js';

const SERIES = [
  ['sent', 'Sent'],
  ['verified', 'Verified'],
  ['failed', 'Failed'],
];

export default async function dashboard({ container }) {
  const query = routeQuery();
  let appId = query.get('appId') || '';
  let range = ['7d', '30d', '90d'].includes(query.get('range')) ? query.get('range') : '30d';
  const applications = await loadApplications();
  const body = h('div', { class: 'dashboard-body', 'aria-live': 'polite' });

  const rangeSelect = select('range', [['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['90d', 'Last 90 days']], { value: range });
  rangeSelect.addEventListener('change', () => { range = rangeSelect.value; refresh(); });
  replace(container,
    pageHeader('Dashboard'),
    h('div', { class: 'filters' },
      applicationFilter(applications, appId, (value) => { appId = value; refresh(); }),
      field('Range', rangeSelect)),
    body);

  async function refresh() {
    setRouteQuery('#/dashboard', { appId, range: range === '30d' ? '' : range });
    try {
      const [summary, series] = await Promise.all([
        api.get(withQuery('/v1/analytics/summary', { appId })),
        api.get(withQuery('/v1/analytics/timeseries', { range, appId })),
      ]);
      render(summary.data, series.data);
    } catch (error) {
      replace(body, alertBox(error));
    }
  }

  function render(summary, series) {
    const cards = [
      ['Applications', summary.applications],
      ['OTP requests', summary.otpRequests],
      ['Verified', summary.otpVerified],
      ['Success rate', `${summary.successRate}%`],
      ['Active users (30 days)', summary.activeUsers],
    ];
    replace(body,
      applications.length === 0
        ? h('p', { class: 'empty' }, 'No applications yet. Create a project under Projects, then an application under Applications, and send your first code.')
        : null,
      h('ul', { class: 'cards', 'aria-label': 'Summary' },
        cards.map(([label, value]) => h('li', { class: 'card' }, h('span', { class: 'card-label' }, label), h('strong', { class: 'card-value' }, String(value))))),
      h('section', { 'aria-labelledby': 'chart-title', class: 'chart-section' },
        h('h2', { id: 'chart-title' }, `Codes per day, ${rangeLabel(series.range)}`),
        chart(series.buckets),
        h('details', {},
          h('summary', {}, 'Show the numbers'),
          table({
            caption: 'Codes per day',
            columns: [{ label: 'Day', cell: (b) => b.date }, ...SERIES.map(([key, label]) => ({ label, cell: (b) => String(b[key]) }))],
            rows: [...series.buckets].reverse(),
            empty: 'No days in this range.',
          }))));
  }

  await refresh();
}

function rangeLabel(range) {
  return { '7d': 'last 7 days', '30d': 'last 30 days', '90d': 'last 90 days' }[range] || range;
}

// An SVG line chart drawn here (no library): one polyline per series, a legend, day ticks.
function chart(buckets) {
  const svgNS = 'http://www.w3.org/2000/svg';
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElementNS(svgNS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    for (const child of children) node.append(child);
    return node;
  };
  const width = 960, height = 260, left = 40, right = 12, top = 12, bottom = 28;
  const max = Math.max(1, ...buckets.flatMap((b) => SERIES.map(([key]) => b[key])));
  const x = (i) => left + (buckets.length <= 1 ? 0 : (i * (width - left - right)) / (buckets.length - 1));
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const totals = SERIES.map(([key, label]) => `${buckets.reduce((sum, b) => sum + b[key], 0)} ${label.toLowerCase()}`).join(', ');
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': `Daily codes: ${totals}` });
  for (const fraction of [0, 0.5, 1]) {
    const value = Math.round(max * fraction);
    svg.append(el('line', { x1: left, x2: width - right, y1: y(value), y2: y(value), class: 'grid' }));
    const label = el('text', { x: left - 6, y: y(value) + 4, class: 'axis', 'text-anchor': 'end' });
    label.textContent = String(value);
    svg.append(label);
  }
  const step = Math.max(1, Math.ceil(buckets.length / 6));
  buckets.forEach((bucket, i) => {
    if (i % step !== 0 && i !== buckets.length - 1) return;
    const anchor = i === 0 ? 'start' : i === buckets.length - 1 ? 'end' : 'middle';
    const label = el('text', { x: x(i), y: height - 8, class: 'axis', 'text-anchor': anchor });
    label.textContent = bucket.date.slice(5);
    svg.append(label);
  });
  for (const [key] of SERIES) {
    const points = buckets.map((b, i) => `${x(i).toFixed(1)},${y(b[key]).toFixed(1)}`).join(' ');
    svg.append(el('polyline', { points, class: `line line-${key}` }));
  }
  const legend = h('ul', { class: 'legend' }, SERIES.map(([key, label]) => h('li', {}, h('span', { class: `swatch swatch-${key}` }), label)));
  return h('figure', { class: 'chart-figure' }, svg, legend);
}
