import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type EC2ClientConfig,
  type Filter,
} from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type {
  Inventory,
  InventoryDocument,
  RawInstance,
  RawNetworkInterface,
  RawRouteTable,
  RawSubnet,
  RawVpc,
} from '../enrich/ports.js';
import { LookupError } from '../errors.js';
import { AWS_REQUEST_HANDLER } from './timeouts.js';

/** EC2 accepts at most 200 values in one filter; larger id lists are split into several calls. */
export const FILTER_VALUE_LIMIT = 200;
const PAGE_SIZE = 1000;

export interface Ec2InventoryOptions {
  /** Shared by every client it builds: region, endpoint (emulators), credentials. */
  readonly clientConfig?: EC2ClientConfig & STSClientConfig;
  /** Account id → role ARN to assume for that account's interfaces. */
  readonly roles?: Readonly<Record<string, string>>;
  /** Tests inject clients; production builds them from `clientConfig`. */
  readonly ec2?: EC2Client;
  readonly sts?: STSClient;
  readonly clientFor?: (roleArn: string) => EC2Client;
}

/**
 * The EC2 API behind the `Inventory` port. Interfaces are looked up with the `network-interface-id`
 * **filter** (the `NetworkInterfaceIds` parameter fails the whole call on one unknown id), in chunks of
 * 200 values, following NextToken. Throttling is retried by the SDK's adaptive retry mode; the caller
 * bounds the total time. Accounts other than the function's own need a configured role, else they are
 * reported unavailable rather than looked up with the wrong credentials.
 */
export interface Ec2Inventory extends Inventory {
  /** Everything of the account and region (`flowlog-enrich inventory --out`). */
  dump(): Promise<InventoryDocument>;
  /** The first pages of the region's interfaces, to warm the cache at cold start. */
  listInterfaces(maxPages: number): Promise<RawNetworkInterface[]>;
  /** The account the default credentials belong to. */
  ownAccount(): Promise<string | undefined>;
}

export function createEc2Inventory(options: Ec2InventoryOptions = {}): Ec2Inventory {
  const clientConfig = {
    retryMode: 'adaptive',
    maxAttempts: 5,
    requestHandler: AWS_REQUEST_HANDLER,
    ...options.clientConfig,
  };
  const ec2 = options.ec2 ?? new EC2Client(clientConfig);
  const sts = options.sts ?? new STSClient(clientConfig);
  const roles = options.roles ?? {};
  const assumed = new Map<string, EC2Client>();
  const clientFor =
    options.clientFor ??
    ((roleArn: string) =>
      new EC2Client({
        ...clientConfig,
        credentials: fromTemporaryCredentials({
          params: { RoleArn: roleArn, RoleSessionName: 'flowlog-enrich' },
          clientConfig: { ...options.clientConfig },
        }),
      }));
  let ownAccount: Promise<string | undefined> | undefined;

  function whoAmI(): Promise<string | undefined> {
    // Learned once per container; an account we cannot identify is treated as not ours.
    ownAccount ??= sts.send(new GetCallerIdentityCommand({})).then(
      (identity) => {
        // An answer without an account is no answer: ask again next time rather than forever denying.
        if (!identity.Account) ownAccount = undefined;
        return identity.Account;
      },
      () => {
        ownAccount = undefined;
        return undefined;
      },
    );
    return ownAccount;
  }

  async function client(accountId: string): Promise<EC2Client> {
    const role = roles[accountId];
    if (role) {
      let assumedClient = assumed.get(role);
      if (!assumedClient) {
        assumedClient = clientFor(role);
        assumed.set(role, assumedClient);
      }
      return assumedClient;
    }
    if (accountId === 'unknown') return ec2;
    const own = await whoAmI();
    if (accountId === own) return ec2;
    throw new LookupError(`no role configured for account ${accountId} (CROSS_ACCOUNT_ROLES)`);
  }

  /** Describe calls for many ids: the filter takes 200 values, so larger lists become several calls. */
  async function paged<T>(
    accountId: string,
    filterName: string,
    ids: readonly string[],
    page: Page<T>,
  ): Promise<T[]> {
    if (ids.length === 0) return [];
    const c = await client(accountId);
    const out: T[] = [];
    for (let i = 0; i < ids.length; i += FILTER_VALUE_LIMIT) {
      const filters = [{ Name: filterName, Values: ids.slice(i, i + FILTER_VALUE_LIMIT) }];
      out.push(...(await allPages((token) => page(c, filters, token))));
    }
    return out;
  }

  const inventory: Inventory = {
    networkInterfaces: (account, ids) => paged(account, 'network-interface-id', ids, PAGES.networkInterfaces),
    subnets: (account, ids) => paged(account, 'subnet-id', ids, PAGES.subnets),
    vpcs: (account, ids) => paged(account, 'vpc-id', ids, PAGES.vpcs),
    routeTables: (account, vpcIds) => paged(account, 'vpc-id', vpcIds, PAGES.routeTables),
    instances: (account, ids) => paged(account, 'instance-id', ids, PAGES.instances),
  };

  /** Everything of the account and region (no filter), every page. */
  const everything = <T>(page: Page<T>, maxPages?: number) =>
    allPages((token) => page(ec2, undefined, token), maxPages);

  async function dump(): Promise<InventoryDocument> {
    const [NetworkInterfaces, Subnets, Vpcs, RouteTables, Instances] = await Promise.all([
      everything(PAGES.networkInterfaces),
      everything(PAGES.subnets),
      everything(PAGES.vpcs),
      everything(PAGES.routeTables),
      everything(PAGES.instances),
    ]);
    return { NetworkInterfaces, Subnets, Vpcs, RouteTables, Reservations: [{ Instances }] };
  }

  return {
    ...inventory,
    dump,
    ownAccount: whoAmI,
    listInterfaces: (maxPages) => everything(PAGES.networkInterfaces, maxPages),
  };
}

/** One page of a Describe call: with a filter (lookups) or without (dumps, warm-up). */
type Page<T> = (
  c: EC2Client,
  filters: Filter[] | undefined,
  token: string | undefined,
) => Promise<{ items: T[]; next?: string | undefined }>;

const PAGES = {
  networkInterfaces: (async (c, Filters, NextToken) => {
    const r = await c.send(
      new DescribeNetworkInterfacesCommand({ Filters, NextToken, MaxResults: PAGE_SIZE }),
    );
    return { items: r.NetworkInterfaces ?? [], next: r.NextToken };
  }) as Page<RawNetworkInterface>,
  subnets: (async (c, Filters, NextToken) => {
    const r = await c.send(new DescribeSubnetsCommand({ Filters, NextToken, MaxResults: PAGE_SIZE }));
    return { items: r.Subnets ?? [], next: r.NextToken };
  }) as Page<RawSubnet>,
  vpcs: (async (c, Filters, NextToken) => {
    const r = await c.send(new DescribeVpcsCommand({ Filters, NextToken, MaxResults: PAGE_SIZE }));
    return { items: r.Vpcs ?? [], next: r.NextToken };
  }) as Page<RawVpc>,
  routeTables: (async (c, Filters, NextToken) => {
    // DescribeRouteTables pages hold at most 100.
    const r = await c.send(new DescribeRouteTablesCommand({ Filters, NextToken, MaxResults: 100 }));
    return { items: r.RouteTables ?? [], next: r.NextToken };
  }) as Page<RawRouteTable>,
  instances: (async (c, Filters, NextToken) => {
    const r = await c.send(new DescribeInstancesCommand({ Filters, NextToken, MaxResults: PAGE_SIZE }));
    return { items: (r.Reservations ?? []).flatMap((res) => res.Instances ?? []), next: r.NextToken };
  }) as Page<RawInstance>,
};

/** Follows NextToken, up to `maxPages`. */
async function allPages<T>(
  call: (token: string | undefined) => Promise<{ items: T[]; next?: string | undefined }>,
  maxPages = Number.POSITIVE_INFINITY,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await call(token);
    out.push(...page.items);
    token = page.next;
  } while (token && ++pages < maxPages);
  return out;
}
