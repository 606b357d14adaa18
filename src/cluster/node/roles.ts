// What runs on a node by its role: the agent on every node, the manager loops on the elected leader. Filled with
// the agent's Worker and the manager's loops as those parts land; until then a node runs what exists.
import type { ClusterRoles, RoleContext, Running } from '../ports';

export interface RoleParts {
  log: { info(m: string): void; error(m: string): void };
  /** The leader's loops (src/cluster/manager). */
  manager?: (ctx: RoleContext) => Promise<Running>;
  /** This node's worker (src/cluster/agent). */
  agent?: (ctx: RoleContext) => Promise<Running>;
}

const idle: Running = { stop: async () => undefined };

export function clusterRoles(parts: RoleParts): ClusterRoles {
  return {
    startManager: async (ctx) => (parts.manager ? parts.manager(ctx) : idle),
    startAgent: async (ctx) => (parts.agent ? parts.agent(ctx) : idle),
  };
}
