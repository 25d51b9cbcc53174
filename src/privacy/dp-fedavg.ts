/**
 * DP-FedAvg (McMahan, Ramage, Talwar & Zhang, "Learning Differentially Private Recurrent Language
 * Models", ICLR 2018) as a wrapper around any strategy whose server folds a weighted sum of client
 * deltas (FedAvg with MF or NeuMF, FedRecon), as Flower wraps strategies
 * (DifferentialPrivacyServerSide{Fixed,Adaptive}Clipping, DifferentialPrivacyClientSideFixedClipping).
 * User-level (client-level) DP: one client's whole contribution to a round is bounded.
 *
 * Round, with Poisson sampling at rate q over a population of N clients (m = qN expected):
 *  1. each client's whole update (every global table, concatenated) is clipped to L2 norm C;
 *  2. weights are uniform: every clipped delta counts once (the example count is data and would
 *     leak; it is ignored);
 *  3. the sum gets Gaussian noise of standard deviation z·C on EVERY entry of EVERY global table
 *     (dense noise: which rows a client touched is private too), and is divided by the fixed m —
 *     never by the realised number of clients, nor per row by the clients that touched the row
 *     ('touched' averaging would divide by a data-dependent count and break the sensitivity bound);
 *  4. the inner strategy's server optimiser applies that average (post-processing).
 * Trust modes: 'central' — the server clips and adds the noise (it sees raw updates);
 * 'distributed' — each device clips its update and adds N(0, z²C²/m) to every entry itself
 * (`privatizeOnDevice`), so the sum of m shares carries the full noise and, with secure
 * aggregation, no party sees an un-noised sum (Kairouz, Liu & Steinke, ICML 2021, for the discrete version).
 * Drop-outs and sampling fluctuations leave fewer shares in the sum, hence less noise: with a floor
 * `minFraction` τ a round releases nothing unless ≥ ⌈τ·m⌉ clients contributed, and the accountant
 * charges z·√τ (the least noise a released sum can carry), not z (docs/privacy.md, "Distributed DP
 * under secure aggregation").
 * Adaptive clipping (Andrew, Thakkar, McMahan & Ramaswamy, NeurIPS 2021; central mode): each
 * round also releases the noised fraction b̄ of clients whose norm was ≤ C (noise σ_b) and sets
 * C ← C·exp(−η(b̄ − γ)); the update noise rises to z_Δ = (z⁻² − (2σ_b)⁻²)^(−1/2) so that the pair
 * of queries costs exactly one Gaussian mechanism of multiplier z in the accountant.
 */
import type { GlobalParams, ParamInfo } from '../models/types.js';
import type { OptimizerState } from '../optim/types.js';
import { Rng } from '../math/rng.js';
import type { PartialAggregate } from '../federated/aggregate.js';
import type { ClientResult, ClientState, ClientData, GlobalUpdate, RoundPlan, RoundSummary, Strategy } from '../federated/types.js';
import type { NegativeSource } from '../train/examples.js';
import { gaussianFor, type Gaussian, type NoiseSource } from './noise.js';
import { epsilonOf } from './rdp-accountant.js';

export type DpMode = 'central' | 'distributed';

export interface AdaptiveClipping {
  /** Target quantile γ of the update norms. */
  readonly quantile: number;
  /** Geometric step η_C. */
  readonly lr: number;
  /** Noise σ_b on the count of clients under the clip (Andrew et al. use m/20). */
  readonly countNoise: number;
}

export interface DpSettings {
  /** Clip norm C (the initial one with adaptive clipping). */
  readonly clip: number;
  /** Noise multiplier z the accountant charges. */
  readonly noiseMultiplier: number;
  /** Poisson sampling rate q. */
  readonly samplingRate: number;
  readonly delta: number;
  readonly mode: DpMode;
  readonly adaptive?: AdaptiveClipping;
  readonly noise: NoiseSource;
  readonly seed: number;
  /**
   * Distributed mode: the floor τ ∈ (0, 1] on contributors as a fraction of m — a round with fewer
   * than ⌈τ·m⌉ contributions releases nothing, and the accountant charges z·√τ. Absent: the
   * accountant charges z, which assumes every released sum holds ≥ m shares.
   */
  readonly minFraction?: number;
}

/** What a device reads in its plan in distributed mode: clip its update to `clip`, add N(0, noiseStd²) to every entry. */
export interface DpClientPlan {
  readonly mode: 'distributed';
  readonly clip: number;
  readonly noiseStd: number;
  readonly noise: NoiseSource;
}

/** What every DP run reports (result JSON `privacy`, coordinator /metrics). */
export interface PrivacyReport {
  readonly clipNorm: number;
  readonly noiseMultiplier: number;
  readonly samplingRate: number;
  readonly rounds: number;
  readonly delta: number;
  readonly epsilon: number | null;
  readonly mode: DpMode;
  readonly accountant: 'rdp';
  readonly adaptiveClipping?: { readonly quantile: number; readonly initialClip: number; readonly finalClip: number };
  readonly noise: NoiseSource;
  /** Expected clients per round, q·N. */
  readonly expectedClients: number;
  /** Distributed mode with a floor: τ, and the multiplier z·√τ the accountant charged (ε is computed from it). */
  readonly minFraction?: number;
  readonly accountedNoiseMultiplier?: number;
}

/** The noise multiplier the accountant charges: z, or z·√τ when distributed shares may be as few as ⌈τ·m⌉. */
export function accountedNoiseMultiplier(s: Pick<DpSettings, 'noiseMultiplier' | 'mode' | 'minFraction'>): number {
  return s.mode === 'distributed' && s.minFraction !== undefined ? s.noiseMultiplier * Math.sqrt(s.minFraction) : s.noiseMultiplier;
}

/**
 * Bound on |value| of a device's privatized update, for the fixed-point range of secure
 * aggregation: every entry of the clipped update is ≤ C, and the noise is ≤ 8.6σ because both
 * Gaussian sources are Box–Muller on uniforms ≥ 2^-53 (√(2·53·ln 2) = 8.57). 9σ leaves a margin.
 */
export function privatizedValueBound(dp: Pick<DpClientPlan, 'clip' | 'noiseStd'>): number {
  return dp.clip + 9 * dp.noiseStd;
}

/** δ = 1/N^1.1 (below 1/N, as it must be for a meaningful guarantee) when none is given. */
export function defaultDelta(population: number): number {
  return 1 / Math.pow(Math.max(population, 2), 1.1);
}

/** The noise multiplier of the update query when adaptive clipping spends part of z on the count. */
export function updateNoiseMultiplier(z: number, adaptive?: AdaptiveClipping): number {
  if (!adaptive) return z;
  const rest = z ** -2 - (2 * adaptive.countNoise) ** -2;
  if (!(rest > 0)) throw new RangeError(`adaptive clipping: the count noise σ_b = ${adaptive.countNoise} must exceed z/2 = ${z / 2}`);
  return rest ** -0.5;
}

/** Poisson sampling: each of n clients takes part independently with probability q (seeded per round). */
export function poissonSample(n: number, q: number, seed: number, round: number): Int32Array {
  const rng = Rng.derive(seed, 'poisson-sampling', round);
  const chosen: number[] = [];
  for (let k = 0; k < n; k++) if (rng.next() < q) chosen.push(k);
  return Int32Array.from(chosen);
}

/** L2 norm of a whole update: every delta of every table. */
export function updateNorm(u: GlobalUpdate): number {
  let s = 0;
  for (const t of [...Object.values(u.itemTables), ...Object.values(u.denseTables)]) for (let k = 0; k < t.length; k++) s += t[k] * t[k];
  return Math.sqrt(s);
}

/**
 * The update scaled to norm ≤ C, made dense (every row of every global table) with N(0, std²) on
 * every entry: one device's share in distributed mode. Weight 1.
 */
export function privatizeOnDevice(u: GlobalUpdate, dp: DpClientPlan, global: GlobalParams, nItems: number, noise: Gaussian): GlobalUpdate {
  const norm = updateNorm(u);
  const scale = norm > dp.clip ? dp.clip / norm : 1;
  const itemTables: Record<string, Float32Array> = {};
  const denseTables: Record<string, Float32Array> = {};
  for (const [name, delta] of Object.entries(u.itemTables)) {
    const full = new Float32Array(global[name].length);
    const cols = full.length / nItems;
    for (let k = 0; k < u.rows.length; k++) for (let f = 0; f < cols; f++) full[u.rows[k] * cols + f] = scale * delta[k * cols + f];
    for (let k = 0; k < full.length; k++) full[k] += dp.noiseStd * noise.normal();
    itemTables[name] = full;
  }
  for (const [name, delta] of Object.entries(u.denseTables)) {
    const full = new Float32Array(delta.length);
    for (let k = 0; k < full.length; k++) full[k] = scale * delta[k] + dp.noiseStd * noise.normal();
    denseTables[name] = full;
  }
  // the training loss is data too and would reach the coordinator un-noised: it is not sent
  return { round: u.round, weight: 1, rows: Int32Array.from({ length: nItems }, (_, r) => r), itemTables, denseTables, loss: 0 };
}

type Work = (plan: RoundPlan, global: GlobalParams, data: ClientData, state: ClientState | null, sampler: NegativeSource) => ClientResult;

/**
 * A client work that, when the plan asks for distributed DP, clips and noises its update on the
 * device before it leaves (the same code in simulation, in `fedrec join` and in the browser).
 * Seeded noise derives from the plan seed and the client id (reproducible, not secret); secure noise
 * from the device's CSPRNG.
 */
export function withDistributedDp(work: Work): Work {
  return (plan, global, data, state, sampler) => {
    const result = work(plan, global, data, state, sampler);
    const dp = plan.dp;
    if (!dp || dp.mode !== 'distributed') return result;
    const noise = gaussianFor(dp.noise, plan.seed, 'client', data.clientId);
    return { ...result, update: privatizeOnDevice(result.update, dp, global, sampler.nItems, noise) };
  };
}

const CLIP_SLOT = 'dpClip/norm';

/** The DP wrapper: clipping, uniform weights, dense Gaussian noise, fixed denominator qN, then the inner strategy. */
export class DpAggregator implements Strategy {
  readonly name: string;
  private readonly sums: Record<string, Float64Array> = {};
  private readonly itemNames: string[];
  private readonly denseNames: string[];
  private clip: number;
  private round = 0;
  private count = 0;
  private lossSum = 0;
  private underClip = 0;
  private completed = 0;

  constructor(
    private readonly inner: Strategy,
    info: readonly ParamInfo[],
    private readonly nItems: number,
    readonly settings: DpSettings,
    /** N, the population clients are Poisson-sampled from (fixed for the run). */
    private readonly population: () => number,
  ) {
    this.name = `dp-${inner.name}`;
    if (settings.adaptive && settings.mode !== 'central') throw new RangeError('adaptive clipping runs in central mode (the server counts clients under the clip)');
    updateNoiseMultiplier(settings.noiseMultiplier, settings.adaptive); // validates σ_b
    const globals = info.filter((p) => p.scope === 'global');
    for (const p of globals) this.sums[p.name] = new Float64Array(p.rows * p.cols);
    this.itemNames = globals.filter((p) => p.index === 'item').map((p) => p.name);
    this.denseNames = globals.filter((p) => p.index !== 'item').map((p) => p.name);
    this.clip = settings.clip;
  }

  /** The current clip norm (changes each round with adaptive clipping). */
  get clipNorm(): number {
    return this.clip;
  }

  /** Rounds aggregated so far (what the accountant charges). */
  get rounds(): number {
    return this.completed;
  }

  /** m = q·N, the fixed denominator. */
  expectedClients(): number {
    return this.settings.samplingRate * this.population();
  }

  /** What devices read in distributed mode; undefined in central mode. */
  clientPlan(): DpClientPlan | undefined {
    if (this.settings.mode !== 'distributed') return undefined;
    const z = this.settings.noiseMultiplier;
    return { mode: 'distributed', clip: this.clip, noiseStd: (z * this.clip) / Math.sqrt(Math.max(this.expectedClients(), 1e-12)), noise: this.settings.noise };
  }

  beginRound(round: number): void {
    this.round = round;
    for (const s of Object.values(this.sums)) s.fill(0);
    this.count = 0;
    this.lossSum = 0;
    this.underClip = 0;
  }

  accept(update: GlobalUpdate): void {
    if (update.round !== this.round) throw new Error(`update for round ${update.round} arrived in round ${this.round}`);
    let scale = 1;
    if (this.settings.mode === 'central') {
      const norm = updateNorm(update);
      if (norm <= this.clip) this.underClip++;
      else scale = this.clip / norm;
    }
    for (const name of this.itemNames) {
      const delta = update.itemTables[name];
      if (!delta) throw new Error(`update lacks item table '${name}'`);
      const sum = this.sums[name];
      const cols = sum.length / this.nItems;
      const rows = update.rows;
      for (let k = 0; k < rows.length; k++) for (let f = 0; f < cols; f++) sum[rows[k] * cols + f] += scale * delta[k * cols + f];
    }
    for (const name of this.denseNames) {
      const delta = update.denseTables[name];
      if (!delta) throw new Error(`update lacks dense table '${name}'`);
      const sum = this.sums[name];
      for (let k = 0; k < sum.length; k++) sum[k] += scale * delta[k];
    }
    for (const name of Object.keys(update.itemTables)) if (!this.itemNames.includes(name)) throw new Error(`update carries table '${name}', which is not a global item table`);
    for (const name of Object.keys(update.denseTables)) if (!this.denseNames.includes(name)) throw new Error(`update carries table '${name}', which is not a global dense table`);
    this.count++;
    this.lossSum += update.loss;
  }

  /**
   * Distributed mode: a whole round's sum at once (the decoded result of a secure-aggregation
   * round: Σ of the devices' clipped, noised, weight-1 updates).
   */
  acceptPartial(p: PartialAggregate): void {
    if (this.settings.mode !== 'distributed') throw new Error('a pre-summed round needs distributed DP: in central mode the server clips each update');
    for (const [name, sum] of Object.entries(this.sums)) {
      const s = p.sums[name];
      if (!s || s.length !== sum.length) throw new Error(`summed round lacks table '${name}' of ${sum.length} values`);
      for (let k = 0; k < sum.length; k++) sum[k] += s[k];
    }
    this.count += p.clients;
    this.lossSum += p.lossSum;
  }

  /** ⌈τ·m⌉: the fewest contributions a distributed round may release (0 without a floor). */
  minContributors(): number {
    const tau = this.settings.minFraction;
    return this.settings.mode === 'distributed' && tau !== undefined ? Math.max(1, Math.ceil(tau * this.expectedClients() - 1e-9)) : 0;
  }

  endRound(global: GlobalParams): RoundSummary {
    const m = Math.max(this.expectedClients(), 1e-12);
    if (this.count < this.minContributors()) {
      // too few noise shares: releasing this sum would spend more than the accountant charges
      this.completed = this.round;
      return { round: this.round, clients: 0, loss: 0 };
    }
    const { noiseMultiplier, adaptive, mode, noise, seed } = this.settings;
    const gauss = gaussianFor(noise, seed, 'server', this.round);
    if (mode === 'central') {
      const std = updateNoiseMultiplier(noiseMultiplier, adaptive) * this.clip;
      if (std > 0) for (const s of Object.values(this.sums)) for (let k = 0; k < s.length; k++) s[k] += std * gauss.normal();
    }
    const itemTables: Record<string, Float32Array> = {};
    const denseTables: Record<string, Float32Array> = {};
    for (const name of this.itemNames) itemTables[name] = Float32Array.from(this.sums[name], (v) => v / m);
    for (const name of this.denseNames) denseTables[name] = Float32Array.from(this.sums[name], (v) => v / m);
    const loss = this.count > 0 ? this.lossSum / this.count : 0;
    this.inner.beginRound(this.round);
    // one dense update of weight 1 carrying the noised average: whatever the inner strategy's row
    // averaging, every row's weight is 1, so it applies exactly this average
    this.inner.accept({ round: this.round, weight: 1, rows: Int32Array.from({ length: this.nItems }, (_, r) => r), itemTables, denseTables, loss });
    this.inner.endRound(global);
    if (adaptive) {
      const fraction = (this.underClip + adaptive.countNoise * gauss.normal()) / m;
      this.clip *= Math.exp(-adaptive.lr * (fraction - adaptive.quantile));
    }
    this.completed = this.round;
    return { round: this.round, clients: this.count, loss };
  }

  /** The privacy spent after `rounds` rounds (default: those aggregated). */
  report(rounds = this.completed): PrivacyReport {
    const s = this.settings;
    const charged = accountedNoiseMultiplier(s);
    const { epsilon } = epsilonOf({ samplingRate: s.samplingRate, noiseMultiplier: charged, rounds, delta: s.delta });
    return {
      clipNorm: s.clip,
      noiseMultiplier: s.noiseMultiplier,
      samplingRate: s.samplingRate,
      rounds,
      delta: s.delta,
      epsilon: Number.isFinite(epsilon) ? epsilon : null,
      mode: s.mode,
      accountant: 'rdp',
      ...(s.adaptive ? { adaptiveClipping: { quantile: s.adaptive.quantile, initialClip: s.clip, finalClip: this.clip } } : {}),
      noise: s.noise,
      expectedClients: this.expectedClients(),
      ...(charged !== s.noiseMultiplier || s.minFraction !== undefined ? { minFraction: s.minFraction, accountedNoiseMultiplier: charged } : {}),
    };
  }

  serverState(): OptimizerState {
    const inner = this.inner.serverState?.() ?? { step: 0, tables: {} };
    // the clip norm as the 8 bytes of a float64, so a restart continues it exactly
    return { step: inner.step, tables: { ...inner.tables, [CLIP_SLOT]: new Float32Array(Float64Array.of(this.clip).buffer) } };
  }

  restoreServerState(state: OptimizerState): void {
    const { [CLIP_SLOT]: clip, ...tables } = state.tables;
    if (!clip || clip.length !== 2) throw new Error(`DP server state: slot '${CLIP_SLOT}' (the clip norm) is missing`);
    if (this.inner.restoreServerState) this.inner.restoreServerState({ step: state.step, tables });
    this.clip = new Float64Array(clip.slice().buffer)[0];
  }
}
