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
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  STSClient,
  type STSClientConfig,
} from '@aws-sdk/client-sts';
import type {
  Inventory,
  InventoryDocument,
  LookupOptions,
  RawInstance,
  RawNetworkInterface,
  RawRouteTable,
  RawSubnet,
  RawVpc,
} from '../enrich/ports.js';
import { LookupError } from '../errors.js';
import {
  AWS_CALL_TIMEOUT_MS,
  AWS_REQUEST_HANDLER,
  type CallOptions,
  callAws,
  untilAborted,
} from './timeouts.js';

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
  /**
   * The deadline of each call (every attempt and backoff of one Describe page, GetCallerIdentity,
   * AssumeRole); default {@link AWS_CALL_TIMEOUT_MS}. Each HTTP attempt also ends after the request
   * handler's `requestTimeout`.
   */
  readonly callTimeoutMs?: number;
}

/** An account that is neither the function's own nor has a role in CROSS_ACCOUNT_ROLES. */
export class MissingRoleError extends LookupError {}

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
  const timeoutMs = options.callTimeoutMs ?? AWS_CALL_TIMEOUT_MS;
  const ec2 = options.ec2 ?? new EC2Client(clientConfig);
  const sts = options.sts ?? new STSClient(clientConfig);
  const roles = options.roles ?? {};
  const assumed = new Map<string, EC2Client>();
  const clientFor =
    options.clientFor ??
    ((roleArn: string) => new EC2Client({ ...clientConfig, credentials: assumeRole(roleArn) }));
  let ownAccount: Promise<string> | undefined;

  /**
   * The role's credentials, from this inventory's STS client and within its call deadline: the EC2
   * client coalesces concurrent refreshes into one, so a refresh without a deadline would hold every
   * later lookup of the account. The client refreshes them before `expiration`.
   */
  function assumeRole(roleArn: string) {
    return async () => {
      const command = new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'flowlog-enrich' });
      const { Credentials: c } = await callAws(
        'STS AssumeRole',
        command,
        (abortSignal) => sts.send(command, { abortSignal }),
        { timeoutMs },
      );
      if (!c?.AccessKeyId || !c.SecretAccessKey)
        throw new LookupError(`AssumeRole ${roleArn}: no credentials`);
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        ...(c.Expiration ? { expiration: c.Expiration } : {}),
      };
    };
  }

  /**
   * The account the default credentials belong to, learned once per container. Shared by concurrent
   * callers, with the deadline of the caller that asked first (its `signal`, else the call deadline): a
   * failure, or no answer in time, is forgotten, so the next lookup asks again rather than waiting on a
   * hung request. A caller that joins is released at its own deadline.
   */
  function whoAmI(signal?: AbortSignal): Promise<string> {
    if (ownAccount) return untilAborted('STS GetCallerIdentity', ownAccount, signal);
    const command = new GetCallerIdentityCommand({});
    const asking = callAws(
      'STS GetCallerIdentity',
      command,
      (abortSignal) => sts.send(command, { abortSignal }),
      { timeoutMs, signal },
    ).then((identity) => {
      if (!identity.Account) throw new LookupError('STS GetCallerIdentity answered without an account');
      return identity.Account;
    });
    ownAccount = asking;
    asking.catch(() => {
      if (ownAccount === asking) ownAccount = undefined;
    });
    return asking;
  }

  async function client(accountId: string, signal?: AbortSignal): Promise<EC2Client> {
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
    // A failed GetCallerIdentity is that error (AccessDenied, TimeoutError …), not a missing role.
    const own = await whoAmI(signal);
    if (accountId === own) return ec2;
    throw new MissingRoleError(`no role configured for account ${accountId} (CROSS_ACCOUNT_ROLES)`);
  }

  /** Describe calls for many ids: the filter takes 200 values, so larger lists become several calls. */
  async function paged<T>(
    accountId: string,
    filterName: string,
    ids: readonly string[],
    page: Page<T>,
    lookup: LookupOptions = {},
  ): Promise<T[]> {
    if (ids.length === 0) return [];
    const c = await client(accountId, lookup.signal);
    const call = { timeoutMs, onAttemptError: lookup.onAttemptError, signal: lookup.signal };
    const out: T[] = [];
    for (let i = 0; i < ids.length; i += FILTER_VALUE_LIMIT) {
      const filters = [{ Name: filterName, Values: ids.slice(i, i + FILTER_VALUE_LIMIT) }];
      out.push(...(await allPages((token) => page(c, filters, token, call))));
    }
    return out;
  }

  const inventory: Inventory = {
    networkInterfaces: (account, ids, lookup) =>
      paged(account, 'network-interface-id', ids, PAGES.networkInterfaces, lookup),
    subnets: (account, ids, lookup) => paged(account, 'subnet-id', ids, PAGES.subnets, lookup),
    vpcs: (account, ids, lookup) => paged(account, 'vpc-id', ids, PAGES.vpcs, lookup),
    routeTables: (account, vpcIds, lookup) => paged(account, 'vpc-id', vpcIds, PAGES.routeTables, lookup),
    instances: (account, ids, lookup) => paged(account, 'instance-id', ids, PAGES.instances, lookup),
  };

  /** Everything of the account and region (no filter), every page. */
  const everything = <T>(page: Page<T>, maxPages?: number) =>
    allPages((token) => page(ec2, undefined, token, { timeoutMs }), maxPages);

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
    ownAccount: () => whoAmI().catch(() => undefined),
    listInterfaces: (maxPages) => everything(PAGES.networkInterfaces, maxPages),
  };
}

/** One page of a Describe call: with a filter (lookups) or without (dumps, warm-up), within its deadline. */
type Page<T> = (
  c: EC2Client,
  filters: Filter[] | undefined,
  token: string | undefined,
  call: CallOptions,
) => Promise<{ items: T[]; next?: string | undefined }>;

const PAGES = {
  networkInterfaces: (async (c, Filters, NextToken, call) => {
    const command = new DescribeNetworkInterfacesCommand({ Filters, NextToken, MaxResults: PAGE_SIZE });
    const r = await callAws(
      'EC2 DescribeNetworkInterfaces',
      command,
      (abortSignal) => c.send(command, { abortSignal }),
      call,
    );
    return { items: r.NetworkInterfaces ?? [], next: r.NextToken };
  }) as Page<RawNetworkInterface>,
  subnets: (async (c, Filters, NextToken, call) => {
    const command = new DescribeSubnetsCommand({ Filters, NextToken, MaxResults: PAGE_SIZE });
    const r = await callAws(
      'EC2 DescribeSubnets',
      command,
      (abortSignal) => c.send(command, { abortSignal }),
      call,
    );
    return { items: r.Subnets ?? [], next: r.NextToken };
  }) as Page<RawSubnet>,
  vpcs: (async (c, Filters, NextToken, call) => {
    const command = new DescribeVpcsCommand({ Filters, NextToken, MaxResults: PAGE_SIZE });
    const r = await callAws(
      'EC2 DescribeVpcs',
      command,
      (abortSignal) => c.send(command, { abortSignal }),
      call,
    );
    return { items: r.Vpcs ?? [], next: r.NextToken };
  }) as Page<RawVpc>,
  routeTables: (async (c, Filters, NextToken, call) => {
    // DescribeRouteTables pages hold at most 100.
    const command = new DescribeRouteTablesCommand({ Filters, NextToken, MaxResults: 100 });
    const r = await callAws(
      'EC2 DescribeRouteTables',
      command,
      (abortSignal) => c.send(command, { abortSignal }),
      call,
    );
    return { items: r.RouteTables ?? [], next: r.NextToken };
  }) as Page<RawRouteTable>,
  instances: (async (c, Filters, NextToken, call) => {
    const command = new DescribeInstancesCommand({ Filters, NextToken, MaxResults: PAGE_SIZE });
    const r = await callAws(
      'EC2 DescribeInstances',
      command,
      (abortSignal) => c.send(command, { abortSignal }),
      call,
    );
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
