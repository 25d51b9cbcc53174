/**
 * The fedrec wire format, version 1. Every binary message is
 *
 *   bytes 0..3   magic 'F' 'R' 'W' and the format version (1)
 *   bytes 4..7   header length H, uint32 little-endian
 *   bytes 8..    H bytes of UTF-8 JSON metadata (validated by the zod schemas below)
 *   padding      zero bytes up to a multiple of 4
 *   sections     the tensors, in the order the header lists them, each `length` elements of
 *                4 bytes little-endian (`f32` IEEE-754 float32, `i32` two's-complement int32)
 *
 * and nothing after the last section. Numbers are never sent as JSON arrays. A sparse item table
 * travels as an `i32` index list (section `rows`, sorted item ids) plus one `f32` section per item
 * table of `rows.length × cols` values; dense tables travel whole.
 */
import { z } from 'zod';

export const WIRE_MAGIC = [0x46, 0x52, 0x57] as const; // 'FRW'
export const WIRE_VERSION = 1;
export const PREFIX_BYTES = 8;

export type DType = 'f32' | 'i32';

const name = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');
const count = z.number().int().min(0).max(1 << 28);

export const sectionSchema = z
  .object({
    name,
    dtype: z.enum(['f32', 'i32']),
    length: count,
    /** For tensors of a model: how rows are indexed ('item' tables are sparse in updates). */
    role: z.enum(['item', 'dense', 'index']).optional(),
    /**
     * Model downloads only (wire/quantize.ts): an i32 section holding `values` half-precision
     * values two a word ('f16'), or 8-bit codes four a word ('q8', with an f32 section
     * '<name>:scale' of one scale per row).
     */
    packing: z.enum(['f16', 'q8']).optional(),
    values: count.optional(),
  })
  .strict();

export type SectionSpec = z.infer<typeof sectionSchema>;

/** A client's update of round `round`: `rows` (i32) plus item and dense deltas (f32). */
export const updateHeaderSchema = z
  .object({
    kind: z.literal('update'),
    round: z.number().int().min(1),
    weight: z.number(),
    loss: z.number(),
    sections: z.array(sectionSchema).min(1).max(64),
  })
  .strict();

/** The global model after `version` completed rounds: every global table, whole. */
export const modelHeaderSchema = z
  .object({
    kind: z.literal('model'),
    version: z.number().int().min(0),
    sections: z.array(sectionSchema).min(1).max(64),
  })
  .strict();

/**
 * An optimiser's state (optim/types.ts `OptimizerState`), as the coordinator checkpoints its server
 * optimiser: `step` and one f32 section per slot, named 'slot/table' (e.g. 'm/itemEmb').
 * Never sent over the network.
 */
export const stateHeaderSchema = z
  .object({
    kind: z.literal('state'),
    step: z.number().int().min(0),
    sections: z
      .array(sectionSchema.extend({ name: z.string().min(1).max(129).regex(/^[A-Za-z0-9_.:-]+\/[A-Za-z0-9_.:-]+$/, "'slot/table' of letters, digits and _ . : -") }))
      .max(256),
  })
  .strict();

export const headerSchema = z.discriminatedUnion('kind', [updateHeaderSchema, modelHeaderSchema, stateHeaderSchema]);

export type UpdateHeader = z.infer<typeof updateHeaderSchema>;
export type ModelHeader = z.infer<typeof modelHeaderSchema>;
export type StateHeader = z.infer<typeof stateHeaderSchema>;
export type Header = z.infer<typeof headerSchema>;

export interface Limits {
  /** Largest accepted message, bytes. */
  readonly maxBytes: number;
  /** Largest accepted JSON header, bytes. */
  readonly maxHeaderBytes: number;
}

export const DEFAULT_LIMITS: Limits = { maxBytes: 64 << 20, maxHeaderBytes: 64 << 10 };

/** A decoding failure; `message` names the field or byte range that was wrong. */
export class WireError extends Error {
  override name = 'WireError';
}

export type Tensor = Float32Array | Int32Array;

export interface DecodedMessage<H extends Header = Header> {
  readonly header: H;
  /** Tensors by section name, in header order. */
  readonly sections: ReadonlyMap<string, Tensor>;
}
