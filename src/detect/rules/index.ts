import type { Rule } from '../rule.js';
import { adminPortRejected } from './admin-port-rejected.js';
import { bruteForce } from './brute-force.js';
import { dbPortRejected } from './db-port-rejected.js';
import { exfiltrationVolume } from './exfiltration-volume.js';
import { externalToInternalTier } from './external-to-internal-tier.js';
import { highConnectionRate } from './high-connection-rate.js';
import { largeTransfer } from './large-transfer.js';
import { portScan } from './port-scan.js';
import { tgwBlackholeDrops } from './tgw-blackhole-drops.js';
import { unusualProtocol } from './unusual-protocol.js';

/**
 * Every rule, in the order a record's `flags` list them. To add one: a file beside these and a line here;
 * the README's rule table, the template's parameters and the metrics follow from this list (tests check).
 */
export const RULES: readonly Rule[] = [
  portScan,
  adminPortRejected,
  bruteForce,
  dbPortRejected,
  largeTransfer,
  externalToInternalTier,
  unusualProtocol,
  highConnectionRate,
  exfiltrationVolume,
  tgwBlackholeDrops,
];

/** Flag ids, in `RULES` order. */
export const FLAG_IDS: readonly string[] = RULES.map((rule) => rule.id);
