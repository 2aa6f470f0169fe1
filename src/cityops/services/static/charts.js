// ECharts options for the public-services panel: pure functions of the panel's data.
// Tooltips are built as elements (never HTML strings): agency and locality names come from imported files.
import { cssColor, h } from '/static/js/dom.js';
import { formatMeasure, formatNumber, pick, t } from '/static/js/i18n.js';

// Decision 766 rating bands (index766.toml): lower bound inclusive, highest first.
export const BANDS = [
  { id: 'excellent', min: 90, color: '#2fbf71' },
  { id: 'good', min: 70, color: '#3fb4ff' },
  { id: 'average', min: 50, color: '#f2b233' },
  { id: 'weak', min: 0, color: '#ef4f4f' },
];
const CHANNEL_COLORS = { walk_in: '#f2b233', online: '#3fb4ff', postal: '#b58cff' };
const MUTED = '#6b7f93';
// Bình Dương lies near 11° N: a degree of longitude is cos(11°) of a degree of latitude.
const ASPECT = Math.cos((11.1 * Math.PI) / 180);

export const percent = (ratio) => (ratio === null || ratio === undefined ? '—' : formatMeasure(ratio * 100, '%'));
export const points = (value) => (value === null || value === undefined ? '—' : formatNumber(value, 1));

function text(key, vars) {
  return t(`services.${key}`, vars);
}

function base() {
  const color = cssColor('--text') || '#e6eef6';
  return {
    backgroundColor: 'transparent',
    textStyle: { color, fontFamily: 'inherit' },
    animationDuration: 400,
  };
}

function tooltip(build) {
  return {
    confine: true,
    backgroundColor: '#16283a',
    borderColor: '#24405a',
    textStyle: { color: '#e6eef6' },
    formatter: (params) => build(params),
  };
}

function tipBox(title, rows) {
  return h(
    'div',
    { class: 'svc-tip' },
    h('strong', {}, title),
    ...rows.map(([label, value]) => h('div', {}, h('span', {}, `${label}: `), h('b', {}, value))),
  );
}

// What a chart shows instead of drawing zeros as if they were data.
function nothing() {
  return {
    text: text('panel.no_data'),
    left: 'center',
    top: 'middle',
    textStyle: { color: MUTED, fontSize: 13, fontWeight: 400 },
  };
}

export function bandOf(index) {
  if (index === null || index === undefined) return null;
  return BANDS.find((band) => index >= band.min) ?? null;
}

export function gaugeOption(province) {
  const index = province.index ?? 0;
  const stops = [...BANDS].reverse().map((band, i, all) => [(all[i + 1]?.min ?? 100) / 100, band.color]);
  return {
    ...base(),
    series: [
      {
        type: 'gauge',
        min: 0,
        max: 100,
        radius: '95%',
        center: ['50%', '58%'],
        startAngle: 200,
        endAngle: -20,
        splitNumber: 10,
        axisLine: { lineStyle: { width: 14, color: stops } },
        pointer: { show: province.index !== null, width: 5, length: '62%', itemStyle: { color: '#e6eef6' } },
        anchor: { show: province.index !== null, size: 10, itemStyle: { color: '#e6eef6' } },
        axisTick: { distance: -14, length: 5, lineStyle: { color: '#0a1420', width: 1 } },
        splitLine: { distance: -14, length: 14, lineStyle: { color: '#0a1420', width: 2 } },
        axisLabel: { distance: 18, color: MUTED, fontSize: 10 },
        title: { show: false },
        detail: {
          valueAnimation: true,
          offsetCenter: [0, '38%'],
          fontSize: 28,
          fontWeight: 700,
          color: bandOf(province.index)?.color ?? '#e6eef6',
          formatter: () => points(province.index),
        },
        data: [{ value: index, name: text('panel.index') }],
      },
    ],
  };
}

export function groupsOption(province) {
  const groups = province.groups;
  const names = groups.map((g) => pick(g.name));
  const max = Math.max(...groups.map((g) => g.max_points), 1);
  const byName = new Map(groups.map((g, i) => [names[i], g]));
  const indicators = province.indicators;
  return {
    ...base(),
    grid: { left: 8, right: 40, top: 28, bottom: 8, containLabel: true },
    legend: { type: 'scroll', top: 0, textStyle: { color: MUTED }, itemWidth: 12, itemHeight: 10, pageTextStyle: { color: MUTED } },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      ...tooltip((params) => {
        const group = byName.get(params[0].name);
        const rows = [[text('panel.points'), `${points(group.points)} / ${points(group.max_points)}`]];
        for (const indicator of indicators.filter((i) => i.group === group.id && i.max_points > 0)) {
          rows.push([`${indicator.id} ${pick(indicator.name)}`, `${points(indicator.points)} / ${points(indicator.max_points)}`]);
        }
        return tipBox(params[0].name, rows);
      }),
    },
    xAxis: {
      type: 'value',
      max,
      splitLine: { lineStyle: { color: '#24405a' } },
      axisLabel: { color: MUTED, showMaxLabel: false },
    },
    yAxis: {
      type: 'category',
      inverse: true,
      data: names,
      axisLabel: { color: '#e6eef6', width: 190, overflow: 'truncate' },
    },
    series: [
      {
        name: text('panel.points_scored'),
        type: 'bar',
        stack: 'points',
        barWidth: 14,
        itemStyle: { color: '#3fb4ff' },
        label: {
          show: true,
          position: 'insideRight',
          color: '#0a1420',
          fontWeight: 700,
          formatter: ({ dataIndex }) => points(groups[dataIndex].points),
        },
        data: groups.map((g) => g.points),
      },
      {
        name: text('panel.points_lost'),
        type: 'bar',
        stack: 'points',
        itemStyle: { color: 'rgba(239, 79, 79, 0.55)' },
        data: groups.map((g) => Math.max(0, g.available - g.points)),
      },
      {
        name: text('panel.points_unavailable'),
        type: 'bar',
        stack: 'points',
        itemStyle: { color: 'rgba(107, 127, 147, 0.35)' },
        data: groups.map((g) => Math.max(0, g.max_points - g.available)),
      },
    ],
  };
}

export function channelsOption(channels) {
  const keys = ['walk_in', 'online', 'postal'];
  const total = keys.reduce((sum, key) => sum + (channels[key] ?? 0), 0);
  return {
    ...base(),
    tooltip: {
      trigger: 'item',
      ...tooltip((p) => tipBox(p.name, [[text('panel.received'), formatNumber(p.value, 0)], ['%', percent(total ? p.value / total : null)]])),
    },
    legend: {
      bottom: 0,
      textStyle: { color: MUTED },
      itemWidth: 12,
      itemHeight: 10,
      // The shares sit in the legend: slice labels do not fit beside a narrow ring.
      formatter: (name) => {
        const key = keys.find((k) => text(`channel.${k}`) === name);
        return total ? `${name} ${percent((channels[key] ?? 0) / total)}` : name;
      },
    },
    title: total === 0 ? nothing() : {
      text: formatNumber(total, 0),
      subtext: text('panel.received'),
      left: 'center',
      top: '36%',
      textStyle: { color: '#e6eef6', fontSize: 18, fontWeight: 700 },
      subtextStyle: { color: MUTED },
    },
    series: [
      {
        type: 'pie',
        radius: ['50%', '76%'],
        center: ['50%', '45%'],
        avoidLabelOverlap: true,
        itemStyle: { borderColor: '#111f2e', borderWidth: 2 },
        label: { show: false },
        data: (total === 0 ? [] : keys).map((key) => ({
          name: text(`channel.${key}`),
          value: channels[key] ?? 0,
          itemStyle: { color: CHANNEL_COLORS[key] },
        })),
      },
    ],
  };
}

export function trendsOption(months, monthLabel) {
  const labels = months.map((m) => monthLabel(m.period));
  const share = (value) => (value === null || value === undefined ? null : Math.round(value * 1000) / 10);
  return {
    ...base(),
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
    legend: { type: 'scroll', top: 0, textStyle: { color: MUTED }, itemWidth: 14, itemHeight: 8, pageTextStyle: { color: MUTED } },
    tooltip: {
      trigger: 'axis',
      ...tooltip((params) =>
        tipBox(
          params[0].axisValueLabel,
          params.map((p) => [p.seriesName, p.seriesIndex === 0 ? formatNumber(p.value ?? 0, 0) : formatNumber(p.value ?? 0, 1)]),
        ),
      ),
    },
    xAxis: { type: 'category', data: labels, axisLabel: { color: MUTED } },
    yAxis: [
      { type: 'value', minInterval: 1, axisLabel: { color: MUTED }, splitLine: { show: false } },
      { type: 'value', min: 0, max: 100, axisLabel: { color: MUTED }, splitLine: { lineStyle: { color: '#24405a' } } },
    ],
    series: [
      {
        name: text('panel.received'),
        type: 'bar',
        yAxisIndex: 0,
        itemStyle: { color: 'rgba(63, 180, 255, 0.25)' },
        data: months.map((m) => m.received),
      },
      {
        name: text('panel.index'),
        type: 'line',
        yAxisIndex: 1,
        symbolSize: 6,
        lineStyle: { width: 3 },
        itemStyle: { color: '#2fbf71' },
        data: months.map((m) => m.index),
        markLine: {
          silent: true,
          symbol: 'none',
          lineStyle: { color: '#2fbf71', type: 'dashed', opacity: 0.6 },
          label: { color: MUTED, position: 'insideEndTop', formatter: text('panel.excellent_line') },
          data: [{ yAxis: 90 }],
        },
      },
      {
        name: `${text('panel.online_share')} (%)`,
        type: 'line',
        yAxisIndex: 1,
        symbolSize: 5,
        itemStyle: { color: '#3fb4ff' },
        data: months.map((m) => share(m.online_share)),
      },
      {
        name: `${text('panel.on_time_rate')} (%)`,
        type: 'line',
        yAxisIndex: 1,
        symbolSize: 5,
        itemStyle: { color: '#f2b233' },
        data: months.map((m) => share(m.on_time_rate)),
      },
    ],
  };
}

export function agenciesOption(agencies, width) {
  const labelWidth = Math.round(Math.max(120, Math.min(320, width * 0.45)));
  const rows = agencies.filter((a) => a.index !== null);
  return {
    ...base(),
    title: rows.length === 0 ? nothing() : undefined,
    grid: { left: 8, right: 48, top: 4, bottom: 4, containLabel: true },
    tooltip: {
      trigger: 'item',
      ...tooltip(({ dataIndex }) => rankingTip(rows[dataIndex])),
    },
    xAxis: { type: 'value', min: 0, max: 100, show: false },
    yAxis: {
      type: 'category',
      inverse: true,
      data: rows.map((a) => `${a.rank}. ${a.name}`),
      axisLabel: { color: '#e6eef6', width: labelWidth, overflow: 'truncate' },
      axisTick: { show: false },
    },
    series: [
      {
        type: 'bar',
        barWidth: 11,
        data: rows.map((a) => ({ value: a.index, itemStyle: { color: bandOf(a.index)?.color ?? MUTED } })),
        label: { show: true, position: 'right', color: '#e6eef6', formatter: ({ value }) => points(value) },
      },
    ],
  };
}

function rankingTip(row) {
  return tipBox(`${row.rank}. ${row.name}`, [
    [text('panel.index'), points(row.index)],
    [text('panel.received'), formatNumber(row.received, 0)],
    [text('panel.online_share'), percent(row.online_share)],
    [text('panel.on_time_rate'), percent(row.on_time_rate)],
    [text('panel.late_count'), formatNumber(row.late, 0)],
  ]);
}

// The localities coloured by index on their own (approximate) shapes, registered as an ECharts map whose
// regions are named by area code.
export function choroplethOption(mapName, localities) {
  const byCode = new Map(localities.map((row) => [row.code, row]));
  // Localities usually sit within a few points of each other: the scale spans what is there, in steps of 5.
  const scores = localities.map((row) => row.index).filter((value) => value !== null);
  const low = scores.length ? Math.floor(Math.min(...scores) / 5) * 5 : 0;
  const high = scores.length ? Math.max(low + 5, Math.ceil(Math.max(...scores) / 5) * 5) : 100;
  return {
    ...base(),
    tooltip: {
      trigger: 'item',
      ...tooltip(({ name }) => {
        const row = byCode.get(name);
        return row ? rankingTip(row) : tipBox(name, [[text('panel.index'), text('panel.no_data')]]);
      }),
    },
    visualMap: {
      type: 'continuous',
      min: low,
      max: high,
      calculable: false,
      left: 0,
      bottom: 0,
      itemWidth: 10,
      itemHeight: 90,
      precision: 0,
      text: [formatNumber(high, 0), formatNumber(low, 0)],
      textStyle: { color: MUTED },
      inRange: { color: ['#ef4f4f', '#f2b233', '#2fbf71'] },
      outOfRange: { color: '#2a3a4a' },
    },
    series: [
      {
        type: 'map',
        map: mapName,
        nameProperty: 'code',
        aspectScale: ASPECT,
        roam: true,
        scaleLimit: { min: 1, max: 8 },
        layoutCenter: ['50%', '48%'],
        layoutSize: '92%',
        itemStyle: { borderColor: '#0a1420', borderWidth: 0.8, areaColor: '#2a3a4a' },
        emphasis: {
          label: { show: true, color: '#0a1420', fontWeight: 700, formatter: ({ name }) => byCode.get(name)?.name ?? '' },
          itemStyle: { areaColor: '#e6eef6' },
        },
        select: { disabled: true },
        label: { show: false },
        data: localities.map((row) => ({ name: row.code, value: row.index })),
      },
    ],
  };
}
