/**
 * Encoding and decoding of wire messages (format in types.ts). Decoding checks, in order: total
 * size, magic and version, header length, JSON syntax, header schema, section names unique, and
 * that the sections fill the rest of the message exactly. Every failure is a `WireError` naming
 * what was wrong. Works in Node and in browsers (Uint8Array / DataView only).
 */
import {
  DEFAULT_LIMITS,
  headerSchema,
  PREFIX_BYTES,
  WIRE_MAGIC,
  WIRE_VERSION,
  WireError,
  type DecodedMessage,
  type Header,
  type Limits,
  type Tensor,
} from './types.js';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Encode a header (whose `sections` describe `tensors`, same order) and the tensors. */
export function encodeMessage(header: Header, tensors: readonly Tensor[]): Uint8Array {
  if (header.sections.length !== tensors.length) {
    throw new WireError(`header lists ${header.sections.length} sections, ${tensors.length} tensors given`);
  }
  header.sections.forEach((s, k) => {
    const t = tensors[k];
    const dtype = t instanceof Float32Array ? 'f32' : 'i32';
    if (s.dtype !== dtype || s.length !== t.length) {
      throw new WireError(`section '${s.name}': header says ${s.dtype}[${s.length}], tensor is ${dtype}[${t.length}]`);
    }
  });
  const json = encoder.encode(JSON.stringify(header));
  const start = PREFIX_BYTES + json.length + pad4(json.length);
  const total = start + tensors.reduce((n, t) => n + t.length * 4, 0);
  const out = new Uint8Array(total);
  out.set(WIRE_MAGIC, 0);
  out[3] = WIRE_VERSION;
  const view = new DataView(out.buffer);
  view.setUint32(4, json.length, true);
  out.set(json, PREFIX_BYTES);
  let at = start;
  for (const t of tensors) {
    if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(t.buffer, t.byteOffset, t.length * 4), at);
    } else {
      for (let k = 0; k < t.length; k++) {
        if (t instanceof Float32Array) view.setFloat32(at + 4 * k, t[k], true);
        else view.setInt32(at + 4 * k, t[k], true);
      }
    }
    at += t.length * 4;
  }
  return out;
}

/**
 * Decode and validate a message. The tensors are fresh, aligned copies; with `views`, those that lie
 * 4-byte aligned in `bytes` are views into it instead (no copy: they share its memory, so the
 * caller must not change `bytes` while it keeps them).
 */
export function decodeMessage(bytes: Uint8Array, limits: Limits = DEFAULT_LIMITS, views = false): DecodedMessage {
  if (bytes.length > limits.maxBytes) throw new WireError(`message of ${bytes.length} bytes exceeds the limit of ${limits.maxBytes}`);
  if (bytes.length < PREFIX_BYTES) throw new WireError(`message of ${bytes.length} bytes is shorter than the 8-byte prefix`);
  if (bytes[0] !== WIRE_MAGIC[0] || bytes[1] !== WIRE_MAGIC[1] || bytes[2] !== WIRE_MAGIC[2]) {
    throw new WireError('bad magic: expected the bytes "FRW" at offset 0');
  }
  if (bytes[3] !== WIRE_VERSION) throw new WireError(`unsupported wire version ${bytes[3]}: this side speaks version ${WIRE_VERSION}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true);
  if (headerLength > limits.maxHeaderBytes) throw new WireError(`header of ${headerLength} bytes exceeds the limit of ${limits.maxHeaderBytes}`);
  if (PREFIX_BYTES + headerLength > bytes.length) {
    throw new WireError(`header length ${headerLength} runs past the end of the ${bytes.length}-byte message`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength)));
  } catch (err) {
    throw new WireError(`header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  const parsed = headerSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(header)'}: ${i.message}`).join('; ');
    throw new WireError(`invalid header: ${issues}`);
  }
  const header = parsed.data;
  const names = new Set<string>();
  let at = PREFIX_BYTES + headerLength + pad4(headerLength);
  const sections = new Map<string, Tensor>();
  for (const s of header.sections) {
    if (names.has(s.name)) throw new WireError(`section '${s.name}' appears twice`);
    names.add(s.name);
    const nbytes = s.length * 4;
    if (at + nbytes > bytes.length) {
      throw new WireError(`section '${s.name}' (${s.dtype}[${s.length}]) runs past the end of the message: needs bytes ${at}..${at + nbytes}, message has ${bytes.length}`);
    }
    const offset = bytes.byteOffset + at;
    let t: Tensor;
    if (views && LITTLE_ENDIAN_HOST && offset % 4 === 0) {
      t = s.dtype === 'f32' ? new Float32Array(bytes.buffer, offset, s.length) : new Int32Array(bytes.buffer, offset, s.length);
    } else {
      t = s.dtype === 'f32' ? new Float32Array(s.length) : new Int32Array(s.length);
      if (LITTLE_ENDIAN_HOST) new Uint8Array(t.buffer).set(bytes.subarray(at, at + nbytes));
      else for (let k = 0; k < s.length; k++) t[k] = s.dtype === 'f32' ? view.getFloat32(at + 4 * k, true) : view.getInt32(at + 4 * k, true);
    }
    sections.set(s.name, t);
    at += nbytes;
  }
  if (at !== bytes.length) throw new WireError(`${bytes.length - at} unexpected trailing bytes after the last section`);
  return { header, sections };
}
