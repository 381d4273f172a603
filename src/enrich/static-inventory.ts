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

/** Checks the shape of an inventory file enough to give a clear error instead of silently empty answers. */
export function parseInventoryDocument(text: string, source: string): InventoryDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(
      `${source} is not an inventory object ({NetworkInterfaces, Subnets, Vpcs, RouteTables, Reservations})`,
    );
  }
  for (const key of ['NetworkInterfaces', 'Subnets', 'Vpcs', 'RouteTables', 'Reservations']) {
    const value = (parsed as Record<string, unknown>)[key];
    if (value !== undefined && !Array.isArray(value)) throw new Error(`${source}: ${key} must be an array`);
  }
  return parsed as InventoryDocument;
}
