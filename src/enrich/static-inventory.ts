import type { Inventory, InventoryDocument, RawInstance, RawRouteTable } from './ports.js';

/**
 * The `--inventory` file behind the `Inventory` port: `aws ec2 describe-*` outputs merged into one object,
 * indexed once. It answers for every account it holds (ids are unique across accounts).
 */
export function createStaticInventory(document: InventoryDocument): Inventory {
  const index = <T>(items: readonly T[] | undefined, id: (item: T) => string | undefined) => {
    const map = new Map<string, T>();
    for (const item of items ?? []) {
      const key = id(item);
      if (key) map.set(key, item);
    }
    return map;
  };
  const enis = index(document.NetworkInterfaces, (e) => e.NetworkInterfaceId);
  const subnets = index(document.Subnets, (s) => s.SubnetId);
  const vpcs = index(document.Vpcs, (v) => v.VpcId);
  const instances = index<RawInstance>(
    (document.Reservations ?? []).flatMap((r) => r.Instances ?? []),
    (i) => i.InstanceId,
  );
  const tablesByVpc = new Map<string, RawRouteTable[]>();
  for (const table of document.RouteTables ?? []) {
    if (!table.VpcId) continue;
    const list = tablesByVpc.get(table.VpcId) ?? [];
    list.push(table);
    tablesByVpc.set(table.VpcId, list);
  }
  const pick = <T>(map: Map<string, T>, ids: readonly string[]) =>
    ids.map((id) => map.get(id)).filter((item): item is T => item !== undefined);
  return {
    networkInterfaces: async (_account, ids) => pick(enis, ids),
    subnets: async (_account, ids) => pick(subnets, ids),
    vpcs: async (_account, ids) => pick(vpcs, ids),
    routeTables: async (_account, vpcIds) => vpcIds.flatMap((id) => tablesByVpc.get(id) ?? []),
    instances: async (_account, ids) => pick(instances, ids),
  };
}

const INVENTORY_LISTS = {
  NetworkInterfaces: 'NetworkInterfaceId',
  Subnets: 'SubnetId',
  Vpcs: 'VpcId',
  RouteTables: undefined,
  Reservations: undefined,
} as const;

/**
 * What is wrong with a parsed inventory file, or undefined when it has the shape `flowlog-enrich inventory`
 * writes: an object whose `NetworkInterfaces` (required: the lookup needs it) and optional `Subnets`, `Vpcs`,
 * `RouteTables`, `Reservations` are arrays of objects carrying their ids.
 *
 * @example inventoryProblem({ name: 'x' }) // 'not an inventory file (no NetworkInterfaces array; …)'
 */
export function inventoryProblem(value: unknown): string | undefined {
  const what = 'an object with NetworkInterfaces, Subnets, Vpcs, RouteTables and Reservations arrays';
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `not an inventory file (${Array.isArray(value) ? 'an array' : typeof value}, not ${what})`;
  const document = value as Record<string, unknown>;
  if (document.NetworkInterfaces === undefined)
    return 'not an inventory file (no NetworkInterfaces array; `flowlog-enrich inventory --out FILE` writes one)';
  for (const [list, id] of Object.entries(INVENTORY_LISTS)) {
    const entries = document[list];
    if (entries === undefined) continue;
    if (!Array.isArray(entries)) return `${list} is not an array`;
    const bad = entries.findIndex(
      (entry) =>
        typeof entry !== 'object' ||
        entry === null ||
        (id !== undefined && typeof (entry as Record<string, unknown>)[id] !== 'string'),
    );
    if (bad !== -1) return `${list}[${bad}] is not an object${id ? ` with a ${id} string` : ''}`;
  }
  return undefined;
}
