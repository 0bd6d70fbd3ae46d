// The topology `lux explain` prints, as the graph the status page lays out: the same nodes and edges, from the config alone.
import { graph, TOPIC_NODES, type Topology } from '../cli/explain.js';
import type { LuxConfig } from '../config/schema.js';

export interface TopologyGraph {
  nodes: Array<{ id: string; label: string; kind: 'topic' | 'stage' }>;
  edges: Array<{ from: string; to: string; label: string }>;
}

/**
 * The graph of `lux explain --format dot` for this config. Partition count and table rows are live numbers on the page,
 * so the labels leave them out (explain asks a broker and reads the CSV files; the daemon needs neither for this).
 */
export function topologyGraph(config: LuxConfig, partitions?: number): TopologyGraph {
  const topology: Topology = { config, partitions, partitionsNote: '', tables: [], refdataVersion: undefined, refdataNote: '' };
  const g = graph(topology);
  return {
    nodes: g.nodes.map(([id, label]) => ({
      id,
      // explain's labels say "no tables found" without the CSV files: the page shows the tables beside the graph
      label: label.replace(/\nno tables found$/, '').replace(/\npartitions: unknown$/, ''),
      kind: TOPIC_NODES.has(id) ? 'topic' : 'stage',
    })),
    edges: g.edges.map(([from, to, label]) => ({ from, to, label })),
  };
}
