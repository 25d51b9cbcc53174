/**
 * Graph aggregation for text-graph (UFGraphFR: Wang, Hao, Xiao, J. Supercomputing 2026, arXiv
 * 2501.08044; GPFedRec: Zhang et al., KDD 2024), the part that runs on a device (browser-safe: no
 * Node module); the Algorithm module, with the server side, is ./graph.ts. Round:
 *  1. once per device: encode its users' own text descriptions with the configured encoder (the
 *     plan's `textGraph.encoder`), v_u, and v_u·W_init with the seeded initial joint layer;
 *  2. each round: download θ and the head (GET /v1/model) and this client's personal rows Δ_u
 *     (GET /v1/personal, a message of this module's format), run the engine's
 *     `runTextGraphClientRound` (the simulation's client work), upload vec(W_u − W_init), the
 *     trained item rows and the head deltas (the update's `users.*` sections, wire/messages.ts);
 *  3. score on the device with its joint layer and R_u = θ + Δ_u (`PersonalisedScorer`).
 * A tab can only run the hashing encoder; Node registers every encoder (client/node-client.ts).
 */
import { z } from 'zod';
import { Rng } from '../math/rng.js';
import { latestEntries } from '../data/recency.js';
import type { PersonalRows } from '../federated/personal-types.js';
import { runTextGraphClientRound, type TextGraphPlan } from '../federated/text-graph-client.js';
import type { RoundPlan } from '../federated/types.js';
import { initJointLayer, recentItemsOf, textInputs, TextGraphModel, type TextGraphConfig, type TextInputs } from '../models/text-graph/model.js';
import { PersonalisedScorer } from '../models/text-graph/scorer.js';
import { HashingEncoder } from '../text/hash.js';
import type { EncoderKind, TextEncoder } from '../text/types.js';
import { decodeMessage, encodeMessage } from '../wire/codec.js';
import type { SectionSpec, Tensor } from '../wire/types.js';
import { WireError } from '../wire/types.js';
import type { ClientWork, DeviceInputs, DeviceNeeds, DeviceScorer } from './types.js';

const optimizerSchema = z.object({ kind: z.enum(['sgd', 'adam']), lr: z.number(), weightDecay: z.number().optional() }).strict();

/** The plan's `textGraph` field: the model, the client optimiser, local DP and the encoder the device runs. */
export const textGraphPlanSchema = z
  .object({
    model: z
      .object({
        textDim: z.number().int().positive(),
        dim: z.number().int().positive(),
        layers: z.array(z.number().int().positive()),
        lambda: z.number().min(0),
        dot: z.boolean().optional(),
        recentItems: z.number().int().min(0).optional(),
      })
      .strict(),
    optimizer: optimizerSchema,
    /** Laplace noise scale on vec(W_u) (local DP); 0: none. */
    dpLaplace: z.number().min(0),
    encoder: z.object({ kind: z.enum(['use', 'transformers', 'hash']), seed: z.number().int(), model: z.string().optional() }).strict(),
    /** Seed of the common initial joint layer W_init (the training seed, as the simulation draws it). */
    initSeed: z.number().int(),
  })
  .strict();

export type TextGraphPlanField = z.infer<typeof textGraphPlanSchema>;

export function textGraphPlanOfRound(plan: RoundPlan): TextGraphPlanField {
  const parsed = textGraphPlanSchema.safeParse((plan as unknown as Record<string, unknown>).textGraph);
  if (!parsed.success) {
    const why = parsed.error.issues.slice(0, 3).map((i) => `textGraph.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`a 'text-graph' round plan needs valid text-graph settings (${why})`);
  }
  return parsed.data;
}

/** Builds the encoder a device runs; the default (a browser tab) knows the hashing encoder only. */
export type TextEncoderFactory = (kind: EncoderKind, seed: number, model?: string) => Promise<TextEncoder>;

let encoderFactory: TextEncoderFactory = async (kind, seed) => {
  if (kind === 'hash') return new HashingEncoder(256, seed);
  throw new Error(`text encoder '${kind}' cannot run on this device (a browser tab runs the hashing encoder only): configure training.encoder 'hash', or join with fedrec join`);
};

/** Replace the encoder factory (Node: every encoder, client/node-client.ts). */
export function registerTextEncoderFactory(factory: TextEncoderFactory): void {
  encoderFactory = factory;
}

/** The device's users' text inputs: v_u from their own descriptions and v_u·W_init. */
export async function deviceTextInputs(field: TextGraphPlanField, texts: readonly (string | undefined)[]): Promise<TextInputs> {
  const missing = texts.findIndex((t) => t === undefined || t.trim() === '');
  if (texts.length === 0 || missing >= 0) {
    throw new Error(`text-graph: user ${Math.max(0, missing)} of this device has no text description (the client data file's 'text' field; fedrec partition --model text-graph writes it)`);
  }
  const encoder = await encoderFactory(field.encoder.kind, field.encoder.seed, field.encoder.model);
  if (encoder.dim !== field.model.textDim) throw new Error(`text-graph: this device's encoder ${encoder.id} gives ${encoder.dim}-d vectors, the coordinator expects ${field.model.textDim}`);
  const encoded = await encoder.encode(texts as string[]);
  const vectors = new Float32Array(encoded.length * encoder.dim);
  encoded.forEach((v, k) => vectors.set(v, k * encoder.dim));
  return textInputs(field.model, vectors, initJointLayer(field.model, Rng.derive(field.initSeed, 'init-joint')));
}

// The personal message (GET /v1/personal): a 'model' header whose sections are the client's users'
// personal rows, concatenated: 'users.id' (i32, the user's index on the device), 'users.rowCount'
// (i32), 'users.rows' (i32, sorted item ids) and 'users.delta' (f32, Δ_u on those rows).

/** Encode personal rows per device user (null: none yet, R_u = θ). */
export function encodePersonal(version: number, perUser: readonly (PersonalRows | null)[]): Uint8Array {
  const present = perUser.map((p, k) => ({ p, k })).filter((x): x is { p: PersonalRows; k: number } => x.p !== null);
  const total = present.reduce((n, x) => n + x.p.rows.length, 0);
  const rows = new Int32Array(total);
  const delta = new Float32Array(present.reduce((n, x) => n + x.p.delta.length, 0));
  let r = 0;
  let v = 0;
  for (const { p } of present) {
    rows.set(p.rows, r);
    delta.set(p.delta, v);
    r += p.rows.length;
    v += p.delta.length;
  }
  const tensors: Tensor[] = [Int32Array.from(present, (x) => x.k), Int32Array.from(present, (x) => x.p.rows.length), rows, delta];
  const names = ['users.id', 'users.rowCount', 'users.rows', 'users.delta'];
  const sections: SectionSpec[] = tensors.map((t, k) => ({ name: names[k], dtype: t instanceof Int32Array ? 'i32' : 'f32', length: t.length }));
  return encodeMessage({ kind: 'model', version, sections }, tensors);
}

/** Decode a personal message into each device user's rows (by the user's index on the device). */
export function decodePersonal(bytes: Uint8Array, d: number): Map<number, PersonalRows> {
  const { header, sections } = decodeMessage(bytes);
  if (header.kind !== 'model') throw new WireError(`personal rows: expected a 'model' message, got '${header.kind}'`);
  const ids = sections.get('users.id');
  const counts = sections.get('users.rowCount');
  const rows = sections.get('users.rows');
  const delta = sections.get('users.delta');
  if (!(ids instanceof Int32Array) || !(counts instanceof Int32Array) || !(rows instanceof Int32Array) || !(delta instanceof Float32Array)) {
    throw new WireError('personal rows: sections users.id, users.rowCount, users.rows (i32) and users.delta (f32) are required');
  }
  if (rows.length * d !== delta.length) throw new WireError(`personal rows: ${delta.length} values for ${rows.length} rows of width ${d}`);
  const out = new Map<number, PersonalRows>();
  let at = 0;
  ids.forEach((k, j) => {
    const c = counts[j];
    if (c < 0 || at + c > rows.length) throw new WireError('personal rows: row counts do not add up');
    out.set(k, { rows: rows.slice(at, at + c), delta: delta.slice(at * d, (at + c) * d) });
    at += c;
  });
  return out;
}

function personalOf(device: DeviceInputs | undefined, d: number): (k: number) => PersonalRows | null {
  const map = device?.personal ? decodePersonal(device.personal, d) : new Map<number, PersonalRows>();
  return (k) => map.get(k) ?? null;
}

function preparedTexts(device: DeviceInputs | undefined): TextInputs {
  const t = device?.prepared as TextInputs | undefined;
  if (!t || !(t.vectors instanceof Float32Array)) throw new Error('text-graph: the device has not prepared its text vectors');
  return t;
}

/** The engine's text-graph plan from a coordinator round plan: the same object the simulation builds (recipes/text-graph-experiment.ts). */
export function textGraphClientPlan(plan: RoundPlan): TextGraphPlan {
  const f = textGraphPlanOfRound(plan);
  return {
    model: f.model as TextGraphConfig, localEpochs: plan.localEpochs, batch: plan.batch, negatives: plan.negatives,
    optimizer: f.optimizer, uploadUsers: true, dpLaplace: f.dpLaplace,
    recency: plan.recency,
    round: plan.round, seed: plan.seed,
  };
}

/** What a device prepares once (its users' text vectors) and fetches each round (its personal rows). */
export const textGraphDeviceNeeds: DeviceNeeds = {
  personal: true,
  prepare: (plan, texts) => deviceTextInputs(textGraphPlanOfRound(plan), texts),
};

/**
 * The device's round. Stateful: the joint layer (a_u, b_u) stays on the device between rounds;
 * vec(W_u − W_init), the trained item rows and the head deltas are sent.
 */
export const textGraphClientWork: ClientWork = (plan, global, data, state, sampler, device) => {
  const p = textGraphClientPlan(plan);
  const result = runTextGraphClientRound(p, { global, personal: personalOf(device, p.model.dim) }, data, preparedTexts(device), state, sampler);
  // the item rows travel per user (users.*): the generic 'item' table is empty (rows = [])
  return { update: { ...result.update, itemTables: { item: new Float32Array(0) } }, state: result.state };
};

/** Scoring on the device: its joint layer and R_u = θ + Δ_u. */
export const textGraphScorer: DeviceScorer = (plan, global, local, data, nItems, device) => {
  const f = textGraphPlanOfRound(plan);
  const cfg = f.model as TextGraphConfig;
  const recent = cfg.recentItems ? recentItemsOf(data.positives.map((p, k) => latestEntries(p, data.recency?.[k] ?? null, cfg.recentItems as number))) : null;
  const model = new TextGraphModel(cfg, data.users.length, nItems, { global, local }, preparedTexts(device), null, recent);
  return new PersonalisedScorer(model, personalOf(device, cfg.dim));
};
