import { ConfigError } from './errors.js';
import { DEFAULT_FORMAT } from './flowlog/fields.js';
import { type FormatSpec, parseFormat } from './flowlog/format.js';
import { parseCidr } from './net/ip.js';

/** Everything the function reads from its environment, parsed and checked once at cold start. */
export interface Config {
  /** The first (primary) format of `FLOW_LOG_FORMAT`: `formats[0]`. */
  readonly format: FormatSpec;
  /**
   * Every configured format, in order (`FLOW_LOG_FORMAT` lists them separated by commas): each line is
   * read with the one whose field count it has, so no two have the same count.
   */
  readonly formats: readonly FormatSpec[];
  readonly maxLineLength: number;
  readonly maxDecompressedBytes: number;
  /** Lambda responses are capped at 6 MB (errors quote 6,291,556 bytes); AWS's blueprints keep this margin. */
  readonly responseLimitBytes: number;
  readonly reingestBudgetMs: number;
  readonly metricsNamespace: string;
  readonly enrichment: EnrichmentConfig;
  readonly detection: DetectionConfig;
}

export interface EnrichmentConfig {
  readonly mode: 'ec2' | 'off';
  readonly cacheTtlMs: number;
  readonly cacheMax: number;
  readonly negativeTtlMs: number;
  /** Wall-clock budget for all EC2/STS lookups of one invocation; past it records go out `unavailable`. */
  readonly budgetMs: number;
  /** Tag keys kept in `eni_tags`; `['*']` keeps all but `aws:` tags. */
  readonly tagKeys: readonly string[];
  readonly tierTagKey: string;
  /** `bundled`, an https URL, or a file path. */
  readonly ipRangesSource: string;
  /** Account id → IAM role ARN assumed to describe that account's interfaces. */
  readonly crossAccountRoles: Readonly<Record<string, string>>;
  /** Pages of DescribeNetworkInterfaces read at cold start to warm the cache (0: off). */
  readonly warmUpPages: number;
  /** ASN, organisation and country of external peers (`peer_*` columns), from the bundled databases. */
  readonly peerLookup: 'on' | 'off';
  /** Extra ranges treated as internal, besides RFC 1918, RFC 6598, IPv6 ULA and the VPC's own CIDRs. */
  readonly internalCidrs: readonly string[];
}

export interface Suppression {
  /** Flag ids it silences; `*` for all. */
  readonly flags: readonly string[];
  readonly cidr?: string;
  readonly dstport?: number;
  /** `Key=Value` of an ENI tag. */
  readonly tag?: string;
}

export interface DetectionConfig {
  readonly windowSeconds: number;
  readonly windowMaxSources: number;
  /** What the windows may hold in this container's memory, all windowed rules together (estimated bytes). */
  readonly windowMaxBytes: number;
  readonly portScanThreshold: number;
  readonly adminPorts: readonly number[];
  readonly bruteForceThreshold: number;
  readonly dbPorts: readonly number[];
  readonly largeTransferBytes: number;
  readonly exfiltrationBytes: number;
  readonly connectionRateThreshold: number;
  readonly internalTiers: readonly string[];
  /** Transit Gateway lines: packets lost to blackhole routes in one flow above which it is flagged. */
  readonly blackholePacketsThreshold: number;
  readonly suppressions: readonly Suppression[];
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The environment variable behind each detection setting: a rule names the settings it reads, and a test
 * checks that the template passes each of them from a parameter with the same default.
 */
export const DETECTION_VARIABLES: Readonly<Record<keyof DetectionConfig, string>> = {
  windowSeconds: 'DETECTION_WINDOW_SECONDS',
  windowMaxSources: 'DETECTION_WINDOW_MAX_SOURCES',
  windowMaxBytes: 'DETECTION_WINDOW_MAX_BYTES',
  portScanThreshold: 'PORT_SCAN_THRESHOLD',
  adminPorts: 'ADMIN_PORTS',
  bruteForceThreshold: 'BRUTE_FORCE_THRESHOLD',
  dbPorts: 'DB_PORTS',
  largeTransferBytes: 'LARGE_TRANSFER_BYTES',
  exfiltrationBytes: 'EXFILTRATION_BYTES',
  connectionRateThreshold: 'CONNECTION_RATE_THRESHOLD',
  internalTiers: 'INTERNAL_TIERS',
  blackholePacketsThreshold: 'TGW_BLACKHOLE_PACKETS_THRESHOLD',
  suppressions: 'SUPPRESSIONS',
};

export const DEFAULT_TAG_KEYS = ['Name', 'Environment', 'Application', 'Service', 'Owner', 'Team', 'Tier'];
export const DEFAULT_ADMIN_PORTS = [22, 23, 135, 139, 445, 3389, 5900, 5985, 5986];
export const DEFAULT_DB_PORTS = [
  1433, 1434, 1521, 2483, 2484, 3306, 5432, 5439, 6379, 9042, 9200, 11211, 27017, 50000,
];
export const DEFAULT_INTERNAL_TIERS = [
  'app',
  'application',
  'data',
  'database',
  'db',
  'internal',
  'isolated',
  'private',
];

/**
 * Reads the configuration once. A bad value fails the cold start with the variable's name, never record
 * one million.
 * @throws ConfigError
 */
export function loadConfig(env: Env): Config {
  const read = new Reader(env);
  const formats = parseFormats(env.FLOW_LOG_FORMAT?.trim() ? env.FLOW_LOG_FORMAT : DEFAULT_FORMAT);
  const config: Config = {
    format: formats[0] as FormatSpec,
    formats,
    maxLineLength: read.int('MAX_LINE_LENGTH', 8192, 64, 1_000_000),
    maxDecompressedBytes: read.int('MAX_DECOMPRESSED_BYTES', 8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    responseLimitBytes: read.int('RESPONSE_LIMIT_BYTES', 6_000_000, 10_000, 6_291_556),
    reingestBudgetMs: read.int('REINGEST_BUDGET_MS', 20_000, 100, 600_000),
    metricsNamespace: read.string('METRICS_NAMESPACE', 'FlowlogEnrich', /^[A-Za-z0-9_./#:-]{1,255}$/),
    enrichment: {
      mode: read.oneOf('ENRICHMENT', ['ec2', 'off'], 'ec2'),
      cacheTtlMs: read.int('ENI_CACHE_TTL_SECONDS', 900, 1, 86_400) * 1000,
      cacheMax: read.int('ENI_CACHE_MAX', 20_000, 10, 1_000_000),
      negativeTtlMs: read.int('ENI_NEGATIVE_TTL_SECONDS', 60, 1, 86_400) * 1000,
      budgetMs: read.int('ENRICHMENT_BUDGET_MS', 5000, 100, 300_000),
      tagKeys: read.list('TAG_KEYS', DEFAULT_TAG_KEYS),
      tierTagKey: read.string('SUBNET_TIER_TAG', 'Tier', /^.{1,128}$/),
      ipRangesSource: read.string('IP_RANGES_SOURCE', 'bundled', /^.{1,2048}$/),
      crossAccountRoles: read.roleMap('CROSS_ACCOUNT_ROLES'),
      warmUpPages: read.int('WARM_UP_ENI_PAGES', 0, 0, 100),
      internalCidrs: read.cidrs('INTERNAL_CIDRS'),
      peerLookup: read.oneOf('PEER_LOOKUP', ['on', 'off'], 'on'),
    },
    detection: {
      windowSeconds: read.int(DETECTION_VARIABLES.windowSeconds, 600, 10, 86_400),
      windowMaxSources: read.int(DETECTION_VARIABLES.windowMaxSources, 50_000, 100, 10_000_000),
      windowMaxBytes: read.int(
        DETECTION_VARIABLES.windowMaxBytes,
        48 * 1024 * 1024,
        64 * 1024,
        4 * 1024 ** 3,
      ),
      portScanThreshold: read.int(DETECTION_VARIABLES.portScanThreshold, 20, 2, 65_536),
      adminPorts: read.ports(DETECTION_VARIABLES.adminPorts, DEFAULT_ADMIN_PORTS),
      bruteForceThreshold: read.int(DETECTION_VARIABLES.bruteForceThreshold, 10, 2, 1_000_000),
      dbPorts: read.ports(DETECTION_VARIABLES.dbPorts, DEFAULT_DB_PORTS),
      largeTransferBytes: read.int(
        DETECTION_VARIABLES.largeTransferBytes,
        10_000_000,
        1,
        Number.MAX_SAFE_INTEGER,
      ),
      exfiltrationBytes: read.int(
        DETECTION_VARIABLES.exfiltrationBytes,
        1_000_000_000,
        1,
        Number.MAX_SAFE_INTEGER,
      ),
      connectionRateThreshold: read.int(DETECTION_VARIABLES.connectionRateThreshold, 1000, 2, 100_000_000),
      internalTiers: read
        .list(DETECTION_VARIABLES.internalTiers, DEFAULT_INTERNAL_TIERS)
        .map((tier) => tier.toLowerCase()),
      blackholePacketsThreshold: read.int(
        DETECTION_VARIABLES.blackholePacketsThreshold,
        10,
        0,
        Number.MAX_SAFE_INTEGER,
      ),
      suppressions: read.suppressions(DETECTION_VARIABLES.suppressions),
    },
  };
  return deepFreeze(config);
}

/**
 * One or more log formats separated by commas (a format never holds one). A line is told apart by its
 * field count alone, so two formats with the same count are refused here rather than misread later.
 * @throws ConfigError naming FLOW_LOG_FORMAT
 */
export function parseFormats(source: string, variable = 'FLOW_LOG_FORMAT'): FormatSpec[] {
  const sources = source.split(',');
  if (sources.length === 1) return [parseFormat(source, variable)];
  const formats = sources.map((text, index) => {
    try {
      return parseFormat(text, variable);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const detail = error.message.slice(variable.length + 2);
      throw new ConfigError(variable, `format ${index + 1}: ${detail}`, { cause: error });
    }
  });
  const byCount = new Map<number, number>();
  formats.forEach((format, index) => {
    const count = format.fields.length;
    const other = byCount.get(count);
    if (other !== undefined) {
      throw new ConfigError(
        variable,
        `formats ${other + 1} and ${index + 1} both have ${count} fields; a line could not tell them apart`,
      );
    }
    byCount.set(count, index);
  });
  return formats;
}

class Reader {
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value)) throw new ConfigError(name, `${JSON.stringify(value)} is not a whole number`);
    const parsed = Number(value);
    if (parsed < min || parsed > max) throw new ConfigError(name, `${parsed} is outside ${min}–${max}`);
    return parsed;
  }

  string(name: string, fallback: string, pattern: RegExp): string {
    const value = this.raw(name) ?? fallback;
    if (!pattern.test(value))
      throw new ConfigError(name, `${JSON.stringify(value)} does not match ${pattern}`);
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(name, `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  list(name: string, fallback: readonly string[]): string[] {
    const value = this.raw(name);
    if (value === undefined) return [...fallback];
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  /** Every entry must parse: a range dropped silently would change what counts as internal. */
  cidrs(name: string): string[] {
    return this.list(name, []).map((item) => {
      if (!isCidr(item))
        throw new ConfigError(name, `${JSON.stringify(item)} is not a CIDR block like 10.0.0.0/8`);
      return item;
    });
  }

  ports(name: string, fallback: readonly number[]): number[] {
    return this.list(name, fallback.map(String)).map((item) => {
      const port = Number(item);
      if (!/^\d+$/.test(item) || port > 65_535)
        throw new ConfigError(name, `${JSON.stringify(item)} is not a port`);
      return port;
    });
  }

  /** JSON `{"111122223333":"arn:aws:iam::111122223333:role/x"}`, `acct=arn,…`, or a list of role ARNs. */
  roleMap(name: string): Record<string, string> {
    const value = this.raw(name);
    if (value === undefined) return {};
    let entries: [string, unknown][];
    if (value.startsWith('{')) {
      try {
        entries = Object.entries(JSON.parse(value) as object);
      } catch (error) {
        throw new ConfigError(name, 'is not valid JSON', { cause: error });
      }
    } else {
      // `acct=arn,…`, or plain role ARNs (the template's list), whose account is in the ARN.
      entries = value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '')
        .map((item) => {
          const at = item.indexOf('=');
          if (at !== -1) return [item.slice(0, at).trim(), item.slice(at + 1).trim()];
          return [item.split(':')[4] ?? '', item];
        });
    }
    const roles: Record<string, string> = {};
    for (const [account, arn] of entries) {
      if (!/^\d{12}$/.test(account))
        throw new ConfigError(name, `${JSON.stringify(account)} is not an account id`);
      if (typeof arn !== 'string' || !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(arn)) {
        throw new ConfigError(name, `${JSON.stringify(arn)} is not an IAM role ARN`);
      }
      roles[account] = arn;
    }
    return roles;
  }

  suppressions(name: string): Suppression[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      throw new ConfigError(name, 'is not valid JSON (expected an array of suppression rules)', {
        cause: error,
      });
    }
    if (!Array.isArray(parsed)) throw new ConfigError(name, 'expected a JSON array of suppression rules');
    return parsed.map((rule: unknown, index) => {
      const r = rule as Partial<Record<keyof Suppression, unknown>>;
      const where = `rule ${index}`;
      if (typeof rule !== 'object' || rule === null) throw new ConfigError(name, `${where} is not an object`);
      const flags = r.flags === undefined ? ['*'] : r.flags;
      if (!Array.isArray(flags) || !flags.every((flag) => typeof flag === 'string')) {
        throw new ConfigError(name, `${where}: flags must be an array of flag ids`);
      }
      // Flag ids are checked against the rule table when the detector is built (at cold start too).
      // A CIDR that does not parse must stop the start: dropped, it would leave a rule that silences
      // every match of its flags.
      if (r.cidr !== undefined && (typeof r.cidr !== 'string' || !isCidr(r.cidr))) {
        throw new ConfigError(
          name,
          `${where}: cidr ${JSON.stringify(r.cidr)} is not a CIDR block like 10.0.0.0/24`,
        );
      }
      if (r.dstport !== undefined && (!Number.isInteger(r.dstport) || (r.dstport as number) > 65_535)) {
        throw new ConfigError(name, `${where}: dstport must be a port number`);
      }
      if (r.tag !== undefined && (typeof r.tag !== 'string' || !r.tag.includes('='))) {
        throw new ConfigError(name, `${where}: tag must be Key=Value`);
      }
      if (r.cidr === undefined && r.dstport === undefined && r.tag === undefined) {
        throw new ConfigError(name, `${where}: needs at least one of cidr, dstport, tag`);
      }
      return {
        flags: flags as string[],
        ...(r.cidr !== undefined ? { cidr: r.cidr as string } : {}),
        ...(r.dstport !== undefined ? { dstport: r.dstport as number } : {}),
        ...(r.tag !== undefined ? { tag: r.tag as string } : {}),
      };
    });
  }
}

function isCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
