// The topology graph: laid out once with dagre (left to right, like `lux explain --format dot`), drawn as SVG; each poll only rewrites the stats lines.
import dagre from '@dagrejs/dagre';
import type { StatusNode, StatusTopology } from '../../src/status/status-document.js';

const SVG = 'http://www.w3.org/2000/svg';
const CHAR_W = 6.6;
const LINE_H = 14;

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

/** The stats line under a node's label: records/s, errors, dead letters, detail — what is known. */
export function statsLine(n: StatusNode): string {
  const parts: string[] = [];
  if (n.records_per_s !== null) parts.push(`${fmtRate(n.records_per_s)}/s`);
  if (n.errors !== null) parts.push(`${n.errors.toLocaleString('en-US')} errors`);
  if (n.dead_letters !== null && n.id !== 'decode') parts.push(`${n.dead_letters.toLocaleString('en-US')} dead letters`);
  if (n.detail !== null) parts.push(n.detail);
  return parts.join(' · ');
}

export function fmtRate(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1);
}

export class TopologyView {
  private readonly stats = new Map<string, { text: SVGTextElement; group: SVGGElement; last: string }>();
  private shape = '';

  constructor(private readonly host: HTMLElement) {}

  /** Lays the graph out again only when its shape (nodes, edges, labels) changed, which a config change alone does. */
  update(t: StatusTopology): void {
    const shape = JSON.stringify([t.nodes.map((n) => [n.id, n.label, n.kind]), t.edges]);
    if (shape !== this.shape) {
      this.shape = shape;
      this.draw(t);
    }
    for (const n of t.nodes) {
      const s = this.stats.get(n.id);
      if (s === undefined) continue;
      const line = statsLine(n);
      if (line !== s.last) {
        s.text.textContent = line;
        s.last = line;
      }
      const bad = (n.id === 'dlq' && (n.records_per_s ?? 0) > 0) || (n.id === 'sla' && (n.detail ?? '').includes('breached'));
      s.group.classList.toggle('bad', bad);
    }
  }

  private draw(t: StatusTopology): void {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 56, edgesep: 10, marginx: 8, marginy: 8 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of t.nodes) {
      const lines = n.label.split('\n');
      // room for the stats line, which grows with the numbers
      const width = Math.max(170, ...lines.map((l) => l.length * CHAR_W)) + 20;
      g.setNode(n.id, { width, height: (lines.length + 1) * LINE_H + 14 });
    }
    for (const e of t.edges) g.setEdge(e.from, e.to, { label: e.label, width: e.label.length * 5.6, height: 12, labelpos: 'c' });
    dagre.layout(g);
    const size = g.graph();
    const svg = el('svg', { viewBox: `0 0 ${Math.ceil(size.width ?? 600)} ${Math.ceil(size.height ?? 200)}`, role: 'img', 'aria-label': 'pipeline topology' });
    const defs = el('defs', {}, svg);
    const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
    el('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#9aa3b5' }, marker);
    for (const e of g.edges()) {
      const edge = g.edge(e) as { points: { x: number; y: number }[]; x: number; y: number; label: string };
      const group = el('g', { class: 'edge' }, svg);
      el('path', { d: curve(edge.points) }, group);
      const text = el('text', { x: edge.x, y: edge.y + 4, 'text-anchor': 'middle' }, group);
      text.textContent = edge.label;
    }
    this.stats.clear();
    for (const n of t.nodes) {
      const box = g.node(n.id) as { x: number; y: number; width: number; height: number };
      const group = el('g', { class: `node ${n.kind}`, 'data-node': n.id, transform: `translate(${box.x - box.width / 2},${box.y - box.height / 2})` }, svg);
      el('rect', { width: box.width, height: box.height, rx: n.kind === 'topic' ? 12 : 4 }, group);
      const lines = n.label.split('\n');
      lines.forEach((line, i) => {
        const text = el('text', { x: 10, y: 16 + i * LINE_H }, group);
        text.textContent = line;
        if (i === 0) text.setAttribute('font-weight', '600');
      });
      const stats = el('text', { x: 10, y: 16 + lines.length * LINE_H, class: 'stats' }, group);
      this.stats.set(n.id, { text: stats, group, last: '' });
    }
    this.host.replaceChildren(svg);
  }
}

/** A smooth path through dagre's edge points (quadratic segments through the midpoints). */
function curve(points: { x: number; y: number }[]): string {
  if (points.length < 3) return `M${points.map((p) => `${p.x},${p.y}`).join(' L')}`;
  let d = `M${points[0]!.x},${points[0]!.y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i]!;
    const q = points[i + 1]!;
    const mx = i === points.length - 2 ? q.x : (p.x + q.x) / 2;
    const my = i === points.length - 2 ? q.y : (p.y + q.y) / 2;
    d += ` Q${p.x},${p.y} ${mx},${my}`;
  }
  return d;
}
