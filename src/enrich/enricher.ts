import { BoundedMap } from '../bounded-map.js';
import type { EnrichmentConfig } from '../config.js';
import type { FormatSpec } from '../flowlog/format.js';
import type { Flow } from '../flowlog/parse.js';
import {
  type Cidr,
  cidrContains,
  INTERNAL_RANGES,
  isInternal,
  type ParsedAddress,
  parseAddress,
  parseCidr,
} from '../net/ip.js';
import { countError } from '../telemetry.js';
import { type Answer, BatchCache, type BatchStats } from './batch-cache.js';
import type { ServiceIndex } from './ip-ranges.js';
import type { PeerDatabase, PeerInfo } from './peer.js';
import type {
  Inventory,
  RawInstance,
  RawNetworkInterface,
  RawRouteTable,
  RawSubnet,
  RawVpc,
} from './ports.js';
import { resolveEni } from './resolve.js';
import type {
  EniInfo,
  EniView,
  Enricher,
  Enrichment,
  EnrichmentBatch,
  TransitGatewaySides,
} from './types.js';

export interface EnricherDeps {
  /** Absent when enrichment from EC2 is off: only ip-ranges and address scope are added. */
  readonly inventory?: Inventory;
  readonly services: ServiceIndex;
  /** ASN, organisation and country of external peers; absent when that lookup is off. */
  readonly peers?: PeerDatabase;
  readonly config: EnrichmentConfig;
  readonly format: FormatSpec;
  /** Every configured format (`format` first) when there are several: each flow has the fields of one. */
  readonly formats?: readonly FormatSpec[];
  readonly now?: () => number;
}

interface AddressFacts {
  readonly parsed: ParsedAddress | undefined;
  readonly service: string | undefined;
  /** The AWS region of the ip-ranges prefix the address is in. */
  readonly region: string | undefined;
  /** RFC 1918 / RFC 6598 / ULA or a configured internal range. */
  readonly internal: boolean;
  /** Who holds a public address that is not AWS's (looked up once per address, when first asked). */
  peer: PeerInfo | undefined | null;
}

type Key = string;

/** The subnet, VPC (and its route tables) and instance entries an interface's view was made from. */
interface Sources {
  readonly subnet?: Key;
  readonly vpc?: Key;
  readonly instance?: Key;
}

/** An interface's remembered answer: valid while the caches' generation is `generation` and until `until`. */
interface Memo {
  readonly answer: Answer<EniView> | null;
  readonly until: number;
  readonly generation: number;
  readonly sources: Sources | undefined;
}
/**
 * The cache key of one id in one account, made once: every batch looks its interfaces (and their subnets,
 * VPCs and instances) up again, and a key built afresh is a new string to hash each time. Bounded.
 */
const keys = new Map<string, BoundedMap<string, Key>>();
function key(accountId: string, id: string): Key {
  let byId = keys.get(accountId);
  if (byId === undefined) {
    // Accounts are few (the stream's own and the cross-account ones configured); ids per account bounded.
    byId = new BoundedMap(200_000);
    keys.set(accountId, byId);
  }
  let made = byId.get(id);
  if (made === undefined) {
    made = `${accountId}/${id}`;
    byId.set(id, made);
  }
  return made;
}

/**
 * Enrichment: for each batch, one lookup round for every interface (then their subnets, VPCs, route
 * tables and instances, each batched and cached the same way), then a synchronous, allocation-light
 * `enrich(flow)` for every line.
 */
export function createEnricher(deps: EnricherDeps): Enricher & {
  readonly cacheSize: () => number;
  warmUp(accountId: string, interfaces: readonly RawNetworkInterface[]): void;
} {
  const { inventory, services, peers, config, format } = deps;
  const now = deps.now ?? Date.now;
  const cacheOptions = {
    max: config.cacheMax,
    ttlMs: config.cacheTtlMs,
    negativeTtlMs: config.negativeTtlMs,
    now,
  };
  const enis = new BatchCache<RawNetworkInterface>(cacheOptions);
  const subnets = new BatchCache<RawSubnet>(cacheOptions);
  const vpcs = new BatchCache<RawVpc>(cacheOptions);
  const routeTables = new BatchCache<RawRouteTable[]>(cacheOptions);
  const instances = new BatchCache<RawInstance>(cacheOptions);
  const extraInternal = config.internalCidrs.map(parseCidr).filter((c): c is Cidr => c !== undefined);
  // Views are rebuilt only when one of their parts changed (a cache refresh), not per invocation.
  const views = new WeakMap<RawNetworkInterface, { parts: unknown[]; view: EniView }>();
  // The cache entries each view was made from, for the memo below.
  const viewSources = new WeakMap<EniView, Sources>();
  // Each interface's last answer, reused while none of the entries it came from changed or went stale: a
  // busy container sees the same interfaces batch after batch, and resolving 500 of them through the
  // caches costs about a millisecond per batch.
  const memo = new BoundedMap<Key, Memo>(2 * config.cacheMax);
  const caches = [enis, subnets, vpcs, routeTables, instances] as const;
  const generation = () => caches.reduce((sum, cache) => sum + cache.generation, 0);
  // Address facts do not change within a container; bounded so a flood of addresses cannot grow it forever.
  const addressFacts = new BoundedMap<string, AddressFacts>(200_000);
  // With several formats, whether a flow has a field is a question about that flow: a format without it
  // leaves the key out of the flow (undefined), one with it has a value or null (`-`).
  const formats = deps.formats ?? [format];
  const inAll = (key: string) => formats.every((spec) => spec.indexOf.has(key));
  const inSome = (key: string) => formats.some((spec) => spec.indexOf.has(key));
  const directionInAll = inAll('flow_direction');
  const directionInSome = inSome('flow_direction');
  const hasSrcService = inSome('pkt_src_aws_service');
  const hasDstService = inSome('pkt_dst_aws_service');
  // Transit Gateway formats name an interface on each side instead of `interface-id`: only then are the
  // sides looked up, so VPC-only configurations never pay for them.
  const hasTgwSides = inSome('tgw_src_eni') || inSome('tgw_dst_eni');

  function facts(address: string): AddressFacts {
    let known = addressFacts.get(address);
    if (known) return known;
    const parsed = parseAddress(address);
    const internal = parsed !== undefined && isInternal(parsed, extraInternal);
    const match = parsed && !internal ? services.match(parsed) : undefined;
    known = { parsed, internal, service: match?.service, region: match?.region, peer: null };
    addressFacts.set(address, known);
    return known;
  }

  async function resolveAll(
    flows: readonly Flow[],
    deadline: number,
    stats: BatchStats,
    defaultAccount: string,
    slots: Int32Array,
  ) {
    const byAccount = new Map<string, Set<string>>();
    // Each distinct (account, interface) of the batch gets a slot, and each flow its slot's number: the
    // one map lookup per flow happens here, and enriching a flow is then an array read.
    const slotOf = new Map<string, Map<string, number>>();
    const slotKeys: [string, string][] = [];
    // Flows of one batch nearly always share an account: skip the map for a repeat.
    let lastAccount: string | undefined;
    let lastIds: Map<string, number> | undefined;
    for (let i = 0; i < flows.length; i++) {
      const flow = flows[i] as Flow;
      const id = flow.interface_id;
      if (!id) {
        slots[i] = -1;
        continue;
      }
      const account = flow.account_id && flow.account_id !== 'unknown' ? flow.account_id : defaultAccount;
      let ids = account === lastAccount ? lastIds : slotOf.get(account);
      if (!ids) {
        ids = new Map();
        slotOf.set(account, ids);
        byAccount.set(account, new Set());
      }
      lastAccount = account;
      lastIds = ids;
      let slot = ids.get(id);
      if (slot === undefined) {
        slot = slotKeys.length;
        slotKeys.push([account, id]);
        ids.set(id, slot);
        byAccount.get(account)?.add(id);
      }
      slots[i] = slot;
    }
    if (!inventory) return { slotOf, slotAnswers: [] };
    const remembered = fromMemo(slotOf, slotKeys.length, stats);
    if (remembered) return { slotOf, slotAnswers: remembered };
    const before = { generation: generation(), misses: stats.misses };
    // account → interface id → answer.
    const resolved = new Map<string, Map<string, Answer<EniView>>>();
    await Promise.all(
      [...byAccount].map(async ([account, ids]) => {
        const answers = new Map<string, Answer<EniView>>();
        resolved.set(account, answers);
        const eniAnswers = await enis.getMany(
          [...ids].map((id) => key(account, id)),
          async (missing, lookup) =>
            byId(
              await inventory.networkInterfaces(account, missing.map(idOf), lookup),
              account,
              (e) => e.NetworkInterfaceId,
            ),
          deadline,
          stats,
        );
        const found = [...eniAnswers.values()].filter(
          (a): a is RawNetworkInterface => typeof a === 'object' && a !== null,
        );
        const subnetIds = unique(found.map((e) => e.SubnetId));
        const vpcIds = unique(found.map((e) => e.VpcId));
        const instanceIds = unique(found.map((e) => e.Attachment?.InstanceId));
        const [subnetAnswers, vpcAnswers, tableAnswers, instanceAnswers] = await Promise.all([
          subnets.getMany(
            subnetIds.map((id) => key(account, id)),
            async (m, lookup) =>
              byId(await inventory.subnets(account, m.map(idOf), lookup), account, (s) => s.SubnetId),
            deadline,
            stats,
          ),
          vpcs.getMany(
            vpcIds.map((id) => key(account, id)),
            async (m, lookup) =>
              byId(await inventory.vpcs(account, m.map(idOf), lookup), account, (v) => v.VpcId),
            deadline,
            stats,
          ),
          routeTables.getMany(
            vpcIds.map((id) => key(account, id)),
            async (m, lookup) =>
              groupByVpc(await inventory.routeTables(account, m.map(idOf), lookup), account),
            deadline,
            stats,
          ),
          instances.getMany(
            instanceIds.map((id) => key(account, id)),
            async (m, lookup) =>
              byId(await inventory.instances(account, m.map(idOf), lookup), account, (i) => i.InstanceId),
            deadline,
            stats,
          ),
        ]);
        for (const [eniKey, answer] of eniAnswers) {
          if (answer === null || answer === 'unavailable') {
            answers.set(idOf(eniKey), answer);
            continue;
          }
          const part = <V>(answers: Map<string, Answer<V>>, id: string | undefined): V | undefined => {
            const value = id ? answers.get(key(account, id)) : undefined;
            return value === null || value === 'unavailable' ? undefined : value;
          };
          const parts = [
            part(subnetAnswers, answer.SubnetId),
            part(vpcAnswers, answer.VpcId),
            part(tableAnswers, answer.VpcId),
            part(instanceAnswers, answer.Attachment?.InstanceId),
          ] as const;
          const cached = views.get(answer);
          if (cached?.parts.every((p, i) => p === parts[i])) {
            answers.set(idOf(eniKey), cached.view);
            continue;
          }
          const info = resolveEni(
            answer,
            { subnet: parts[0], vpc: parts[1], routeTables: parts[2], instance: parts[3] },
            config,
          );
          const view = makeView(info);
          views.set(answer, { parts: [...parts], view });
          viewSources.set(view, {
            ...(answer.SubnetId ? { subnet: key(account, answer.SubnetId) } : {}),
            ...(answer.VpcId ? { vpc: key(account, answer.VpcId) } : {}),
            ...(answer.Attachment?.InstanceId
              ? { instance: key(account, answer.Attachment.InstanceId) }
              : {}),
          });
          answers.set(idOf(eniKey), view);
        }
      }),
    );
    const slotAnswers = slotKeys.map(([account, id]) => resolved.get(account)?.get(id));
    // Remembered only from a round that loaded nothing and during which nothing else changed the caches:
    // then every answer is what the entries hold now.
    if (stats.misses === before.misses && generation() === before.generation) {
      remember(slotKeys, slotAnswers, before.generation);
    }
    return { slotOf, slotAnswers };
  }

  /**
   * The answers of a batch whose every interface is remembered, unchanged and still fresh, with the hits
   * a round through the caches would have counted; undefined otherwise. It touches the same entries, in
   * the same order, as that round: the caches' least-recently-used order, and so what they evict, stays
   * that of a round through them.
   */
  function fromMemo(
    slotOf: ReadonlyMap<string, ReadonlyMap<string, number>>,
    count: number,
    stats: BatchStats,
  ): Answer<EniView>[] | undefined {
    if (memo.size === 0) return undefined;
    const current = generation();
    const time = now();
    const out = new Array<Answer<EniView>>(count);
    // Per account, as the round goes: its interfaces first, then their subnets, VPCs and instances.
    const sourcesOf: Sources[][] = [];
    for (const [account, ids] of slotOf) {
      const sources: Sources[] = [];
      for (const [id, slot] of ids) {
        const eniKey = key(account, id);
        const known = memo.get(eniKey);
        if (known === undefined || known.generation !== current || known.until <= time) return undefined;
        enis.touch(eniKey);
        out[slot] = known.answer;
        if (known.sources) sources.push(known.sources);
      }
      sourcesOf.push(sources);
    }
    let hits = count;
    for (const sources of sourcesOf) {
      const subnetKeys = new Set<Key>();
      const vpcKeys = new Set<Key>();
      const instanceKeys = new Set<Key>();
      for (const { subnet, vpc, instance } of sources) {
        if (subnet) subnetKeys.add(subnet);
        if (vpc) vpcKeys.add(vpc);
        if (instance) instanceKeys.add(instance);
      }
      for (const k of subnetKeys) subnets.touch(k);
      for (const k of vpcKeys) vpcs.touch(k);
      for (const k of vpcKeys) routeTables.touch(k);
      for (const k of instanceKeys) instances.touch(k);
      // Interfaces, then their subnets, VPCs, VPCs' route tables and instances, each counted once.
      hits += subnetKeys.size + 2 * vpcKeys.size + instanceKeys.size;
    }
    stats.hits += hits;
    return out;
  }

  function remember(
    slotKeys: readonly [string, string][],
    answers: readonly (Answer<EniView> | undefined)[],
    at: number,
  ): void {
    for (let i = 0; i < slotKeys.length; i++) {
      const answer = answers[i];
      const [account, id] = slotKeys[i] as [string, string];
      const eniKey = key(account, id);
      if (answer === undefined || answer === 'unavailable') {
        memo.delete(eniKey);
        continue;
      }
      let until = enis.freshUntil(eniKey);
      const sources = answer === null ? undefined : viewSources.get(answer);
      if (sources?.subnet) until = Math.min(until, subnets.freshUntil(sources.subnet));
      if (sources?.vpc) {
        until = Math.min(until, vpcs.freshUntil(sources.vpc), routeTables.freshUntil(sources.vpc));
      }
      if (sources?.instance) until = Math.min(until, instances.freshUntil(sources.instance));
      memo.set(eniKey, { answer, until, generation: at, sources });
    }
  }

  let nextSerial = 0;
  function makeView(info: EniInfo): EniView & Scope {
    const internal = [...INTERNAL_RANGES, ...extraInternal];
    return {
      info,
      serial: nextSerial++,
      // A VPC range inside an internal one (10.0.0.0/16 and the like, nearly all of them) cannot hold an
      // address that is not internal: only the others are checked, per flow.
      cidrs: (info.vpcCidrs ?? [])
        .map(parseCidr)
        .filter((c): c is Cidr => c !== undefined && !internal.some((range) => within(c, range))),
      // An interface has one address or a few: compared in turn, quicker than hashing the flow's.
      addresses: info.addresses ?? [],
      addressFacts: (info.addresses ?? []).map(facts),
    };
  }

  return {
    cacheSize: () => enis.size,
    warmUp(accountId, interfaces) {
      enis.prime(
        interfaces
          .filter((eni) => eni.NetworkInterfaceId)
          .map((eni) => [key(eni.OwnerId ?? accountId, eni.NetworkInterfaceId as string), eni] as const),
      );
    },
    async prepare(flows, deadline, context): Promise<EnrichmentBatch> {
      const stats: BatchStats = { hits: 0, misses: 0, calls: 0, errors: 0, ms: 0, errorNames: {} };
      const defaultAccount = context?.accountId ?? 'unknown';
      // With Transit Gateway formats, each flow's two attachment interfaces are looked up in the same
      // round as the interfaces of VPC lines (one batched call per account): as stand-in flows after the
      // batch's own, source sides then destination sides.
      const looked = hasTgwSides
        ? [...flows, ...flows.map(sideOf('src')), ...flows.map(sideOf('dst'))]
        : flows;
      const slots = new Int32Array(looked.length);
      let slotOf = new Map<string, Map<string, number>>();
      let slotAnswers: (Answer<EniView> | undefined)[] = [];
      try {
        ({ slotOf, slotAnswers } = await resolveAll(looked, deadline, stats, defaultAccount, slots));
      } catch (error) {
        stats.errors++;
        countError(stats.errorNames, error);
        slots.fill(-1);
      }
      const answerAt = (slot: number | undefined): Answer<EniView> | undefined =>
        slot === undefined || slot < 0 ? undefined : slotAnswers[slot];
      const answerFor = (flow: Flow): Answer<EniView> | undefined => {
        const id = flow.interface_id;
        if (!id) return undefined;
        const account = flow.account_id && flow.account_id !== 'unknown' ? flow.account_id : defaultAccount;
        const slot = slotOf.get(account)?.get(id);
        return slot === undefined ? undefined : slotAnswers[slot];
      };
      const sideAnswerFor = (flow: Flow, side: 'src' | 'dst'): Answer<EniView> | undefined => {
        const stand = sideOf(side)(flow);
        const id = stand.interface_id;
        if (!id) return undefined;
        const slot = slotOf.get(accountOf(stand, defaultAccount))?.get(id);
        return slot === undefined ? undefined : slotAnswers[slot];
      };
      return {
        stats: {
          get cacheHits() {
            return stats.hits;
          },
          get cacheMisses() {
            return stats.misses;
          },
          get lookupCalls() {
            return stats.calls;
          },
          get lookupMs() {
            return stats.ms;
          },
          get lookupErrors() {
            return stats.errors;
          },
          get errors() {
            return stats.errorNames;
          },
        },
        enrich: (flow) =>
          hasTgwSides && isTgwFlow(flow)
            ? enrichTgwFlow(flow, sideAnswerFor(flow, 'src'), sideAnswerFor(flow, 'dst'))
            : enrichFlow(flow, answerFor(flow)),
        enrichAll() {
          const n = flows.length;
          const out = new Array<Enrichment>(n);
          for (let i = 0; i < n; i++) {
            const flow = flows[i] as Flow;
            if (hasTgwSides && isTgwFlow(flow)) {
              out[i] = enrichTgwFlow(flow, answerAt(slots[n + i]), answerAt(slots[2 * n + i]));
              continue;
            }
            const slot = slots[i] as number;
            out[i] = enrichFlow(flow, slot < 0 ? undefined : slotAnswers[slot]);
          }
          return out;
        },
      };
    },
  };

  /**
   * A Transit Gateway line: the flow's own enrichment (addresses, services, scope) plus what the inventory
   * says of its two attachment interfaces. Its status is that of the two lookups together: the worse of
   * them (unavailable, then not_found), `ok` when every side named was found, `skipped` when none is named.
   */
  function enrichTgwFlow(
    flow: Flow,
    src: Answer<EniView> | undefined,
    dst: Answer<EniView> | undefined,
  ): Enrichment {
    const base = enrichFlow(flow, undefined);
    if (!inventory) return base;
    const named = [flow.tgw_src_eni ? src : false, flow.tgw_dst_eni ? dst : false].filter((a) => a !== false);
    let status: Enrichment['status'] = named.length === 0 ? 'skipped' : 'ok';
    for (const answer of named) {
      if (answer === undefined || answer === 'unavailable') status = 'unavailable';
      else if (answer === null && status !== 'unavailable') status = 'not_found';
    }
    const view = (answer: Answer<EniView> | false | undefined) =>
      answer && answer !== 'unavailable' ? answer : undefined;
    const sides: TransitGatewaySides = {
      src: view(flow.tgw_src_eni ? src : false),
      dst: view(flow.tgw_dst_eni ? dst : false),
    };
    return { ...base, status, tgw: sides.src || sides.dst ? sides : undefined };
  }

  /** The enrichment of one flow, given its interface's answer (undefined: no id, or not looked up). */
  function enrichFlow(flow: Flow, answer: Answer<EniView> | undefined): Enrichment {
    const id = flow.interface_id;
    // Without an inventory (ENRICHMENT=off) there is no status to report.
    let status: Enrichment['status'] = inventory ? 'skipped' : undefined;
    let view: (EniView & Partial<Scope>) | undefined;
    if (id && inventory) {
      if (answer === null) status = 'not_found';
      else if (answer === undefined || answer === 'unavailable') status = 'unavailable';
      else {
        status = 'ok';
        view = answer;
      }
    }
    const src = flow.pkt_srcaddr ?? flow.srcaddr;
    const dst = flow.pkt_dstaddr ?? flow.dstaddr;
    let srcFacts: AddressFacts | undefined;
    let dstFacts: AddressFacts | undefined;
    let direction = (flow.flow_direction ?? undefined) as 'ingress' | 'egress' | undefined;
    let inferred: 'ingress' | 'egress' | undefined;
    const addresses = view?.addresses;
    if (!direction && addresses) {
      // The interface's own address, once found, brings its facts along: one map lookup a flow fewer.
      let at = flow.dstaddr ? addresses.indexOf(flow.dstaddr) : -1;
      if (at >= 0) {
        inferred = 'ingress';
        if (dst === flow.dstaddr) dstFacts = view?.addressFacts?.[at];
      } else {
        at = flow.srcaddr ? addresses.indexOf(flow.srcaddr) : -1;
        if (at >= 0) {
          inferred = 'egress';
          if (src === flow.srcaddr) srcFacts = view?.addressFacts?.[at];
        }
      }
      direction = inferred;
    }
    srcFacts ??= src ? facts(src) : undefined;
    dstFacts ??= dst ? facts(dst) : undefined;
    const remote =
      direction === 'ingress'
        ? srcFacts
        : direction === 'egress'
          ? dstFacts
          : srcFacts?.internal
            ? dstFacts
            : srcFacts;
    let peerScope: 'internal' | 'external' | undefined;
    if (remote?.parsed) {
      let inside = remote.internal;
      const cidrs = view?.cidrs;
      if (!inside && cidrs) {
        // A loop, not some(): no closure per flow.
        for (let i = 0; i < cidrs.length && !inside; i++)
          inside = cidrContains(cidrs[i] as Cidr, remote.parsed);
      }
      peerScope = inside ? 'internal' : 'external';
    }
    const srcService = (hasSrcService ? flow.pkt_src_aws_service : undefined) ?? srcFacts?.service;
    const dstService = (hasDstService ? flow.pkt_dst_aws_service : undefined) ?? dstFacts?.service;
    // Who is on the other end, for the remote side only: its AWS region when it is AWS's, else (when
    // external) its autonomous system and country. Nothing for internal peers: the output stays lean.
    let peer: PeerInfo | undefined;
    if (peerScope === 'external' && remote !== undefined) {
      const remoteService = remote === srcFacts ? srcService : dstService;
      if (!remoteService && peers && remote.parsed) {
        if (remote.peer === null) remote.peer = peers.lookup(remote.parsed);
        peer = remote.peer;
      }
    }
    const remoteRegion = peerScope === 'external' ? remote?.region : undefined;
    // One object shape for every flow: the writer and the rules read these on the hot path.
    return {
      status,
      eni: view,
      src_aws_service: srcService ?? undefined,
      dst_aws_service: dstService ?? undefined,
      src_aws_region: remote === srcFacts ? remoteRegion : undefined,
      dst_aws_region: remote === dstFacts ? remoteRegion : undefined,
      peer,
      flow_direction:
        inferred && !directionInAll && !(directionInSome && flow.flow_direction !== undefined)
          ? inferred
          : undefined,
      peer_scope: peerScope,
      direction,
      tgw: undefined,
    };
  }
}

/** A line of a Transit Gateway format: it names no interface of its own (`interface-id`). */
function isTgwFlow(flow: Flow): boolean {
  return (
    flow.interface_id === undefined && (flow.tgw_src_eni !== undefined || flow.tgw_dst_eni !== undefined)
  );
}

/** The account a (stand-in) flow's interface is looked up in: its own, else the stream's. */
function accountOf(flow: Flow, defaultAccount: string): string {
  return flow.account_id && flow.account_id !== 'unknown' ? flow.account_id : defaultAccount;
}

/**
 * A stand-in flow naming one side's attachment interface, in the account of that side's VPC (so a spoke
 * in another account is looked up through its cross-account role, as interfaces are), else the account of
 * the flow log. Empty for lines that are not Transit Gateway lines.
 */
function sideOf(side: 'src' | 'dst'): (flow: Flow) => Flow {
  return (flow) => {
    if (!isTgwFlow(flow)) return NO_SIDE;
    const id = side === 'src' ? flow.tgw_src_eni : flow.tgw_dst_eni;
    if (!id) return NO_SIDE;
    const account =
      (side === 'src' ? flow.tgw_src_vpc_account_id : flow.tgw_dst_vpc_account_id) ?? flow.account_id;
    return { interface_id: id, account_id: account ?? null };
  };
}

const NO_SIDE: Flow = Object.freeze({}) as Flow;

/** What an interface's view adds for direction and scope, beyond what the writer copies. */
interface Scope {
  /** The VPC's ranges that are not inside an internal range. */
  readonly cidrs: readonly Cidr[];
  readonly addresses: readonly string[];
  /** The facts of each of `addresses`, in the same order. */
  readonly addressFacts: readonly AddressFacts[];
}

/** Whether `inner` lies wholly inside `outer`. */
function within(inner: Cidr, outer: Cidr): boolean {
  return inner.v === outer.v && outer.first <= inner.first && inner.last <= outer.last;
}

function idOf(cacheKey: string): string {
  return cacheKey.slice(cacheKey.indexOf('/') + 1);
}

function byId<V>(items: readonly V[], account: string, id: (item: V) => string | undefined): Map<string, V> {
  const out = new Map<string, V>();
  for (const item of items) {
    const value = id(item);
    if (value) out.set(key(account, value), item);
  }
  return out;
}

function groupByVpc(tables: readonly RawRouteTable[], account: string): Map<string, RawRouteTable[]> {
  const out = new Map<string, RawRouteTable[]>();
  for (const table of tables) {
    if (!table.VpcId) continue;
    const k = key(account, table.VpcId);
    const list = out.get(k);
    if (list) list.push(table);
    else out.set(k, [table]);
  }
  return out;
}

function unique(values: readonly (string | undefined)[]): string[] {
  // An empty id (a hand-written inventory can hold one) names nothing: not looked up.
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))];
}
