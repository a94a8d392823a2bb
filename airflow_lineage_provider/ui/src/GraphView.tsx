// The lineage graph, drawn with React Flow and laid out by dagre. Node names are text, never HTML.
import {
  Background,
  Controls,
  type Edge,
  Handle,
  MarkerType,
  MiniMap,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import { memo, useEffect, useMemo } from "react";
import { type LineageNode, nodeParts } from "./api";
import { assertionsOf, type Kind, kindOf, type ViewGraph } from "./graph";
import { layout, NODE_HEIGHT, NODE_WIDTH } from "./layout";
import type { Mode } from "./theme";

const READABLE_ZOOM = 0.7;

type CardData = {
  node: LineageNode;
  kind: Kind;
  isRoot: boolean;
  inDag: boolean;
  canExpand: boolean;
  onExpand: (id: string) => void;
};
type CardNode = Node<CardData, "lineage">;

function latestState(node: LineageNode): string | null {
  const run = node.data.latestRun as { state?: string } | undefined;
  return run?.state ?? null;
}

/** A job "<dag_id>.<task_id>" reads best as its task with the DAG below; anything else as name and
 * namespace. The full id is in the card's tooltip and the side panel. */
function cardLabel(kind: Kind, parts: { namespace: string; name: string }): { title: string; subtitle: string } {
  const dot = parts.name.indexOf(".");
  if (kind === "job" && dot > 0 && dot < parts.name.length - 1) {
    return { title: parts.name.slice(dot + 1), subtitle: `${parts.name.slice(0, dot)} · ${parts.namespace}` };
  }
  return { title: parts.name, subtitle: parts.namespace };
}

const Card = memo(function Card({ data, selected }: NodeProps<CardNode>) {
  const { node, kind, isRoot, inDag, canExpand, onExpand } = data;
  const parts = nodeParts(node);
  const label = cardLabel(kind, parts);
  const state = latestState(node);
  const version = typeof node.data.version === "string" ? node.data.version : null;
  const checks = assertionsOf(node);
  const classes = ["card", kind, isRoot ? "root" : "", inDag ? "in-dag" : "", selected ? "selected" : ""].join(" ");
  return (
    <div className={classes} data-testid="lineage-node" data-node-id={node.id} data-kind={kind} title={node.id} style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="card-top">
        <span className={`badge ${kind}`}>{kind}</span>
        {state ? (
          <span className={`state ${state.toLowerCase()}`} title={`last run ${state}`}>
            {state.toLowerCase()}
          </span>
        ) : null}
        {version ? <span className="version" title={`version ${version}`}>v {version.slice(0, 8)}</span> : null}
        {checks && checks.failing > 0 ? (
          <span className="checks failing" data-testid="failing-assertions" title={`${checks.failing} of ${checks.total} data quality assertions failed on the current version`}>
            ✗ {checks.failing}/{checks.total}
          </span>
        ) : null}
      </div>
      <div className="card-name">{label.title}</div>
      <div className="card-ns">{label.subtitle}</div>
      {canExpand ? (
        <button
          type="button"
          className="expand nodrag"
          aria-label={`Expand ${parts.name}`}
          title="Show what lies beyond this node"
          onClick={(e) => {
            e.stopPropagation();
            onExpand(node.id);
          }}
        >
          ＋
        </button>
      ) : null}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { lineage: Card };

interface Props {
  graph: ViewGraph;
  root: string | null;
  dagId?: string;
  selected: string | null;
  onSelect: (id: string) => void;
  onExpand: (id: string) => void;
  mode: Mode;
}

function Inner({ graph, root, dagId, selected, onSelect, onExpand, mode }: Props) {
  const flow = useReactFlow();
  const { nodes, edges } = useMemo(() => {
    const ids = [...graph.nodes.keys()];
    const edgeList = [...graph.edges.values()];
    const positions = layout(ids, edgeList);
    const dagPrefix = dagId ? `${dagId}.` : null;
    const nodes: CardNode[] = ids.map((id) => {
      const node = graph.nodes.get(id) as LineageNode;
      const parts = nodeParts(node);
      const inDag = Boolean(dagId && node.type === "JOB" && (parts.name === dagId || parts.name.startsWith(dagPrefix as string)));
      return {
        id,
        type: "lineage",
        position: positions.get(id) ?? { x: 0, y: 0 },
        selected: id === selected,
        data: { node, kind: kindOf(node), isRoot: id === root, inDag, canExpand: graph.frontier.has(id), onExpand },
      };
    });
    const edges: Edge[] = edgeList.map((e) => ({
      id: `${e.source}->${e.target}`,
      source: e.source,
      target: e.target,
      markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
      className: `edge ${e.type ?? ""}${e.declared ? " declared" : ""}`,
      // declared by a producer, not seen in a run: dashed
      style: e.declared ? { strokeDasharray: "6 4" } : undefined,
    }));
    return { nodes, edges };
  }, [graph, root, dagId, selected, onExpand]);

  // Fit the whole graph when it stays readable; a bigger one is shown around its root at a readable
  // zoom instead (pan, the minimap or the fit button show the rest).
  useEffect(() => {
    const timer = window.setTimeout(() => {
      void flow.fitView({ padding: 0.1, maxZoom: 1.25 }).then(() => {
        const center = root ? nodes.find((n) => n.id === root) : undefined;
        if (!center || flow.getZoom() >= READABLE_ZOOM) return;
        const { x, y } = center.position;
        void flow.setCenter(x + NODE_WIDTH / 2, y + NODE_HEIGHT / 2, { zoom: READABLE_ZOOM });
      });
    }, 30);
    return () => window.clearTimeout(timer);
  }, [graph, flow]); // re-fit on new data only, not on selection

  return (
    <ReactFlow
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      colorMode={mode}
      onNodeClick={(_, node) => onSelect(node.id)}
      nodesConnectable={false}
      nodesDraggable
      minZoom={0.05}
      fitView
      proOptions={{ hideAttribution: true }}
    >
      <Background gap={20} />
      <Controls showInteractive={false} />
      {graph.nodes.size > 12 ? <MiniMap pannable zoomable nodeClassName={(n) => `mini ${(n.data as CardData).kind}`} /> : null}
    </ReactFlow>
  );
}

export function GraphView(props: Props) {
  return (
    <div className="graph" data-testid="lineage-graph">
      <ReactFlowProvider>
        <Inner {...props} />
      </ReactFlowProvider>
    </div>
  );
}
