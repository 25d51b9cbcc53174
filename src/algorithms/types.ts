/**
 * The Algorithm contract: everything that makes one federated algorithm, in one module
 * (src/algorithms/<name>.ts), listed once in src/algorithms/registry.ts. The engines — the
 * in-process simulation, the worker-thread simulation and the coordinator with its Node and browser
 * clients — look an algorithm up by name and run it; none of them names an algorithm.
 *
 *   options   its run-config fields as a zod object, defaults declared there once; composed into
 *             the run config (config/config.ts), its flags into `fedrec train` (cli/train.ts)
 *   plan      the fields its client work reads beyond the common RoundPlan (sent with every round)
 *   server    the server side: today's streaming `Strategy` (beginRound / accept / endRound)
 *   client    the client work, one signature for every algorithm: the downloaded global tables,
 *             the device's own data and the plan → the update sent and what stays on the device
 *   localTables (optional) how a device builds the user tables it scores with from its own data,
 *             when it keeps none between rounds (FedRecon, iALS)
 *
 * Module rule: an algorithm module imports `config/config.ts` for types only (the config imports
 * the registry to compose its schema), and takes what the engine computes from the config in
 * `ServerContext`.
 */
import type { z } from 'zod';
import type { FlagSpec } from '../cli/flags.js';
import type { FedAvgOptions } from '../federated/fedavg.js';
import type { Scorer } from '../eval/types.js';
import type { ClientData, ClientResult, ClientState, GlobalUpdate, RoundPlan, Strategy } from '../federated/types.js';
import type { GlobalParams, LocalParams, ParamInfo } from '../models/types.js';
import type { TrainConfig } from '../config/config.js';
import type { NegativeSource } from '../train/examples.js';

/** Engine switches that must not change results (benches compare them). */
export interface EngineSwitches {
  /** false: MF clients take the generic JavaScript path instead of WebAssembly SIMD. */
  readonly simd?: boolean;
  /**
   * true: the caller is done with each update (folded into sums, measured) before it runs another
   * client round on this thread, so the update's tables may be views of the client's working memory
   * instead of copies (the in-process FedAvg fold). Never for a fold that keeps updates.
   */
  readonly transientUpdate?: boolean;
}

/**
 * What some works need besides the plan, the global model and the interactions: the personal
 * message the coordinator sends this client (graph aggregation, GET /v1/personal), and inputs the
 * device prepares once from its own data (text-graph: its users' text vectors).
 */
export interface DeviceInputs {
  readonly personal?: Uint8Array;
  readonly prepared?: unknown;
}

/** What a device needs besides the plan and the global model: its personal message each round, inputs prepared once from its own data. */
export interface DeviceNeeds {
  /** Fetch this client's personal message (GET /v1/personal) before each round and for scoring. */
  readonly personal: boolean;
  /** Inputs computed once from the device's own data (e.g. text vectors from its users' descriptions). */
  prepare?(plan: RoundPlan, texts: readonly (string | undefined)[]): Promise<unknown>;
}

/** How a device scores its users when the model is not rebuilt from the plan's `model` field alone (models/registry.ts `scorerOf`). */
export type DeviceScorer = (plan: RoundPlan, global: GlobalParams, local: LocalParams, data: ClientData, nItems: number, device?: DeviceInputs) => Scorer;

/** A model an algorithm serves with its own tables and initial values (text-graph, LightGCN, NCL). */
export interface ServedModel {
  /** Every table, global and local (local ones never leave the devices). */
  readonly info: readonly ParamInfo[];
  /** The plan's `model` field. */
  readonly plan: { readonly kind: string; readonly dim: number };
  /** The initial global tables, exactly as the simulation starts them. */
  init(): GlobalParams;
  /** Largest update body in bytes when `coordinator.maxUpdateBytes` is not set. */
  readonly maxUpdateBytes?: number;
}

/** What the coordinator knows when it admits an update. */
export interface AdmitContext {
  /** Global tables only. */
  readonly info: readonly ParamInfo[];
  readonly nItems: number;
  readonly training: TrainConfig;
}

/** A client work's last argument: the engine's switches and the device's inputs. */
export type WorkInputs = EngineSwitches & DeviceInputs;

/**
 * A device's round: `global` is the model as the device decoded it (fixed during the round),
 * `data` and `state` are the device's own; the result's `update` is all that leaves the device.
 */
export type ClientWork = (
  plan: RoundPlan,
  global: GlobalParams,
  data: ClientData,
  state: ClientState | null,
  sampler: NegativeSource,
  inputs?: WorkInputs,
) => ClientResult;

/** The user tables a device scores with, computed on the device from its own data (nothing is sent). */
export type LocalTables = (plan: RoundPlan, global: GlobalParams, data: ClientData, sampler: NegativeSource, device?: DeviceInputs) => LocalParams;

/** What an engine hands the server side: the global tables' shapes, the config, and the summing server's settings derived from it. */
export interface ServerContext {
  /** Global tables only. */
  readonly info: readonly ParamInfo[];
  readonly nItems: number;
  readonly training: TrainConfig;
  /** A summing server's settings (server optimiser, row averaging, bounded influence) as config/config.ts derives them. */
  readonly sum: FedAvgOptions & { readonly trimFraction: number };
}

/** What an algorithm's server and client work can be combined with (the engines and the config check these). */
export interface Capabilities {
  /**
   * The server folds a (weighted) sum of row-sparse updates of the global tables (federated/fedavg.ts
   * or a subclass): user-level DP (privacy/dp-fedavg.ts), secure aggregation and robust rules wrap it.
   */
  readonly sumsUpdates: boolean;
  /** The worker-thread simulation can run it (clients partitioned from a split, partial sums per worker). */
  readonly workers: boolean;
  /** false: its client work cannot run in a browser tab (Node worker threads, shared-memory kernels); absent: it can. */
  readonly tab?: boolean;
}

export interface Algorithm<S extends z.ZodRawShape = z.ZodRawShape> {
  /** The wire's client-work name; the `--algorithm` name and the coordinator's `training.algorithm` unless it is a `variantOf` another. */
  readonly name: string;
  /**
   * The `--algorithm` this module runs for its `models`: a module that specialises another
   * algorithm's rounds to models with their own client work (federated LightGCN / NCL are FedAvg
   * rounds). It adds no `--algorithm` choice of its own.
   */
  readonly variantOf?: string;
  /** The paper, as the module header names it. */
  readonly paper: string;
  /** What it is in a few words, for `fedrec train --help`. */
  readonly summary: string;
  /** Its run-config fields with their defaults; they apply to runs of this algorithm only. */
  readonly options: z.ZodObject<S>;
  /** `fedrec train` flags for those fields, by flag name (e.g. 'prox-mu'). */
  readonly flags: Readonly<Record<string, FlagSpec>>;
  readonly capabilities: Capabilities;
  /** The models its client work trains, when it is not every model the run config accepts for federated training. */
  readonly models?: readonly string[];
  /**
   * Another algorithm whose tuned defaults of the shared fields (rounds, learning rates, server
   * optimiser: config/config.ts) this one runs with, e.g. a variant of FedAvg that must equal it
   * when its own term is off.
   */
  readonly sharedDefaults?: string;
  /** The plan fields its client work reads beyond the common RoundPlan. */
  plan(config: TrainConfig): Readonly<Record<string, unknown>>;
  /** The server side, built the same way by the simulation and the coordinator. */
  server(ctx: ServerContext): Strategy;
  readonly client: ClientWork;
  readonly localTables?: LocalTables;
  /** Its own served model (tables, plan `model` field, initial values); absent: models/registry.ts builds `training.model`. */
  servedModel?(training: TrainConfig, nItems: number): ServedModel;
  /**
   * Checks an update beyond the generic validation (server/validate.ts) and maps it to what the
   * server folds, knowing which client sent it (graph aggregation: the client's users to server-side
   * user ids); throws `InvalidUpdate`. The coordinator calls it on submission and on reload.
   */
  admit?(update: GlobalUpdate, clientId: number, ctx: AdmitContext): GlobalUpdate;
  /** What its devices need besides the model (personal message, prepared inputs). */
  readonly device?: DeviceNeeds;
  /** How its devices score (the evaluation hook); absent: the model the plan's `model` field names. */
  readonly scorer?: DeviceScorer;
}
