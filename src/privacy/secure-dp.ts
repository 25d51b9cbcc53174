/**
 * Distributed DP-FedAvg composed with secure aggregation (Kairouz, Liu & Steinke, "The Distributed
 * Discrete Gaussian Mechanism for Federated Learning with Secure Aggregation", ICML 2021, for the
 * discrete version; ours is continuous, see docs/privacy.md):
 *  - each device clips its whole update to C and adds N(0, z²C²/m) to every entry
 *    (dp-fedavg.ts `privatizeOnDevice`), then encodes it in fixed point (secagg/fixed-point.ts);
 *  - the coordinator unmasks only the sum of ≥ ⌈τ·m⌉ such shares (τ: the secure-aggregation
 *    threshold; the protocol aborts below it, before unmasking) and applies it without adding noise;
 *  - the accountant charges z·√τ, the least noise a released sum can carry.
 * Central DP is refused under secure aggregation: the coordinator would have to clip each update,
 * which the ring sum hides (and its noise would be added to a sum it has already seen).
 */
import { ConfigError } from '../config/config.js';
import { privatizedValueBound, type DpAggregator } from './dp-fedavg.js';

/** One clear line when DP and secure aggregation cannot run together as configured. */
export function checkSecureDp(dp: DpAggregator, secureClip: number): void {
  const s = dp.settings;
  if (s.mode !== 'distributed') {
    throw new ConfigError("coordinator.secureAggregation with training.dpMode 'central': central DP clips each update at the coordinator, which secure aggregation hides (and would add its noise to a sum it has seen); use training.dpMode 'distributed' (each device clips and adds its noise share)");
  }
  // with m ≥ 1 expected clients a device's noise std zC/√m is ≤ zC
  const bound = privatizedValueBound({ clip: s.clip, noiseStd: s.noiseMultiplier * s.clip });
  if (secureClip < bound) {
    throw new ConfigError(`coordinator.secureAggregation.clip ${secureClip} is below the range of a noised DP value, dpClip·(1 + 9·dpNoiseMultiplier) = ${bound}: the fixed-point encoding would clip noise`);
  }
}
