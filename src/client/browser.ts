/**
 * The demo page's client (bundled by esbuild into the file the coordinator serves at /client.js).
 * A person enters the token the operator gave them, rates a few movies — the ratings stay in this
 * browser's IndexedDB and are never uploaded — and joins training. The tab runs the same
 * `Participant` as the Node client (engine `runClientRound` inside), sends only model deltas, and
 * after each round computes its own recommendations with the new global model.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { HttpTransport } from './http-transport.js';
import { toLocalData, type UserRecord } from './local-data.js';
import { topK } from '../eval/top-k.js';
import { deviceScorer } from './on-device.js';
import type { RoundPlan } from '../federated/types.js';
import { Participant } from './participant.js';
import { deviceLocalTables, localTablesOf } from './works.js';
import { clientNegativeSource } from '../federated/client-work.js';
import type { ClientEvent } from './types.js';
import type { Catalogue } from '../wire/protocol.js';

interface StoredRating {
  readonly item: string;
  readonly rating: number;
  readonly at: number;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

let db: IDBPDatabase | null = null;
async function ratingsDb(): Promise<IDBPDatabase> {
  db ??= await openDB('fedrec-demo', 1, {
    upgrade(d) {
      d.createObjectStore('ratings', { keyPath: 'item' });
    },
  });
  return db;
}

async function allRatings(): Promise<StoredRating[]> {
  return (await (await ratingsDb()).getAll('ratings')) as StoredRating[];
}

function log(line: string): void {
  const el = $('log');
  el.textContent = `${new Date().toLocaleTimeString()} ${line}\n${el.textContent ?? ''}`.slice(0, 5000);
}

function status(text: string): void {
  $('status').textContent = text;
}

async function renderMovies(catalogue: Catalogue): Promise<void> {
  const rated = new Map((await allRatings()).map((r) => [r.item, r.rating]));
  const list = $('movies');
  list.replaceChildren();
  for (const i of catalogue.featured) {
    const id = catalogue.itemIds[i];
    const li = document.createElement('li');
    li.className = 'movie';
    li.dataset.item = id;
    const title = document.createElement('span');
    title.textContent = catalogue.titles[i];
    li.append(title);
    for (let r = 1; r <= 5; r++) {
      const b = document.createElement('button');
      b.textContent = '★'.repeat(r);
      b.dataset.rating = String(r);
      if (rated.get(id) === r) b.className = 'chosen';
      b.onclick = async () => {
        await (await ratingsDb()).put('ratings', { item: id, rating: r, at: Date.now() } satisfies StoredRating);
        li.querySelectorAll('button').forEach((x) => x.classList.toggle('chosen', x === b));
        $('rated-count').textContent = String((await allRatings()).length);
      };
      li.append(b);
    }
    list.append(li);
  }
  $('rated-count').textContent = String(rated.size);
}

/** Set once training is over: a round's late recommendation pass must not overwrite the final status. */
let trainingFinished = false;

async function showRecommendations(participant: Participant, catalogue: Catalogue, afterRound: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const info = await participant.transport.round();
    const roundClosing = info.status === 'wait' && (info.reason.startsWith('update received') || info.reason.startsWith('secure aggregation'));
    if (info.status === 'done' || info.round > afterRound || (info.status === 'wait' && !roundClosing)) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  const final = await participant.finalModel();
  if (!participant.state && !localTablesOf(final.info.algorithm)) return;
  // FedRecon keeps no user tables: they are reconstructed here, in the tab, from the stored ratings.
  const data = participant.data();
  const plan = { ...final.info.plan, round: Math.max(1, final.info.round) };
  const local = deviceLocalTables(final.info.algorithm, plan as unknown as RoundPlan, final.global, data, participant.state, clientNegativeSource(final.info.nItems, data), final.device);
  const model = deviceScorer(final.info, final.global, local, data, final.info.nItems, final.device);
  const seen = new Set<number>(participant.local.data.positives[0]);
  const recs = topK(model, 0, 10, seen);
  if (Number($('recs-round').textContent) > final.version) return; // a newer pass already showed a newer model
  const ol = $('recs');
  ol.replaceChildren(
    ...recs.map((r) => {
      const li = document.createElement('li');
      li.textContent = catalogue.titles[r.item];
      return li;
    }),
  );
  $('recs-round').textContent = String(final.version);
  if (!trainingFinished) status(`recommendations computed in this tab with model version ${final.version}`);
}

async function connect(): Promise<{ transport: HttpTransport; catalogue: Catalogue }> {
  const token = ($('token') as HTMLInputElement).value.trim();
  const transport = new HttpTransport({ server: location.origin, token });
  const catalogue = await transport.catalogue();
  return { transport, catalogue };
}

async function main(): Promise<void> {
  let session: { transport: HttpTransport; catalogue: Catalogue } | null = null;
  $('connect').onclick = async () => {
    try {
      session = await connect();
      await renderMovies(session.catalogue);
      status('connected: rate a few movies, then join training');
      ($('join') as HTMLButtonElement).disabled = false;
    } catch (err) {
      status(`cannot connect: ${(err as Error).message}`);
    }
  };
  $('join').onclick = async () => {
    if (!session) return;
    const ratings = await allRatings();
    if (ratings.length === 0) {
      status('rate at least one movie first');
      return;
    }
    // text-graph: the description is encoded in this tab (hashing encoder) and never sent
    const about = ($('about') as HTMLTextAreaElement | null)?.value.trim() ?? '';
    const record: UserRecord = { id: 'me', train: ratings.map((r) => r.item), ratings: ratings.map((r) => r.rating), ...(about ? { text: about } : {}) };
    const local = toLocalData([record], session.catalogue);
    const participant = new Participant(session.transport, session.catalogue, local);
    ($('join') as HTMLButtonElement).disabled = true;
    status('training in this tab…');
    const catalogue = session.catalogue;
    const onEvent = (e: ClientEvent) => {
      log(JSON.stringify(e));
      if (e.type === 'accepted') {
        status(`round ${e.round}: update accepted, waiting for the round to close`);
        void showRecommendations(participant, catalogue, e.round).catch((err) => log(`recommendations failed: ${(err as Error).message}`));
      }
    };
    try {
      await participant.run({ onEvent, maxDurationMs: 30 * 60_000 });
      trainingFinished = true;
      await showRecommendations(participant, catalogue, Number.MAX_SAFE_INTEGER);
      status('training finished; recommendations below are computed in this tab');
    } catch (err) {
      status(`stopped: ${(err as Error).message}`);
    }
  };
}

void main();
