/**
 * Test fixture: a tiny transformers.js feature-extraction model written from scratch (no download),
 * so the transformers path can be exercised offline. A BERT-type config, a WordPiece tokenizer over
 * a few words, and an ONNX graph `last_hidden_state = Gather(embeddings, input_ids)` ([batch, seq,
 * hidden]); the protobuf is encoded by hand (ModelProto, ONNX IR 8, opset 17).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../math/rng.js';

const WORDS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'i', 'love', 'this', 'film', 'movie', 'is', 'great', 'stock', 'market', 'fell', 'the', 'a'];

// --- minimal protobuf writer ---
function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, n: number) => [...key(field, 0), ...varint(n)];
const bytes = (field: number, b: number[] | Uint8Array) => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);

const FLOAT = 1;
const INT64 = 7;
/** ValueInfoProto with a tensor type and symbolic / fixed dims. */
function valueInfo(name: string, elemType: number, dims: (string | number)[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  const tensorType = [...int(1, elemType), ...bytes(2, shape)];
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
}

export function tinyOnnxModel(vocab: number, hidden: number, seed = 1): Uint8Array {
  const rng = new Rng(seed);
  const table = new Float32Array(vocab * hidden).map(() => rng.normal());
  const tensor = [...int(1, vocab), ...int(1, hidden), ...int(2, FLOAT), ...str(8, 'embeddings'), ...bytes(9, new Uint8Array(table.buffer))];
  const node = [...str(1, 'embeddings'), ...str(1, 'input_ids'), ...str(2, 'last_hidden_state'), ...str(3, 'gather'), ...str(4, 'Gather')];
  const graph = [
    ...bytes(1, node),
    ...str(2, 'tiny'),
    ...bytes(5, tensor),
    ...bytes(11, valueInfo('input_ids', INT64, ['batch', 'seq'])),
    ...bytes(11, valueInfo('attention_mask', INT64, ['batch', 'seq'])),
    ...bytes(11, valueInfo('token_type_ids', INT64, ['batch', 'seq'])),
    ...bytes(12, valueInfo('last_hidden_state', FLOAT, ['batch', 'seq', hidden])),
  ];
  const model = [...int(1, 8), ...str(2, 'fedrec-test'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...int(2, 17)])];
  return Uint8Array.from(model);
}

/** Write the tiny model directory under `root`; returns its path. */
export function writeTinyTransformersModel(root: string, hidden = 8): string {
  const dir = join(root, 'tiny-bert');
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const vocab = Object.fromEntries(WORDS.map((w, k) => [w, k]));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: hidden, vocab_size: WORDS.length, max_position_embeddings: 64 }));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({
    tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 64,
    cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]',
  }));
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special('[PAD]', 0), special('[UNK]', 1), special('[CLS]', 2), special('[SEP]', 3)],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  }));
  writeFileSync(join(dir, 'onnx', 'model.onnx'), tinyOnnxModel(WORDS.length, hidden));
  return dir;
}
