/** Text-graph defaults: graph aggregation unless asked otherwise, the validation-chosen settings, given flags win; the graph options built from them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainConfig } from './config.js';
import { graphOptionsOf } from '../recipes/text-graph-experiment.js';

test('text-graph defaults: graph aggregation with the tuned plan; central and given fields are respected', () => {
  const federated = parseTrainConfig({ model: 'text-graph' });
  assert.equal(federated.algorithm, 'graph');
  assert.deepEqual([federated.optimizer, federated.lr, federated.rounds, federated.localEpochs, federated.serverOptimizer], ['sgd', 0.05, 40, 2, 'adam']);
  assert.equal(federated.recentItems, 10);
  assert.equal(federated.testHistory, 'train', 'the common protocol: test reads train only');
  assert.equal(parseTrainConfig({ model: 'text-graph', testHistory: 'train+validation' }).testHistory, 'train+validation');
  assert.equal(parseTrainConfig({ model: 'text-graph', recentItems: 0 }).recentItems, 0, 'the paper\'s e_u on request');
  const fedavg = parseTrainConfig({ model: 'text-graph', algorithm: 'fedavg', lr: 0.3 });
  assert.equal(fedavg.algorithm, 'fedavg');
  assert.equal(fedavg.lr, 0.3);
  const central = parseTrainConfig({ model: 'text-graph', mode: 'central' });
  assert.deepEqual([central.mode, central.lr, central.epochs, central.recentItems], ['central', 0.002, 20, 10]);
  assert.equal(parseTrainConfig({}).algorithm, 'fedavg', 'other models keep FedAvg');
  assert.equal(parseTrainConfig({}).testHistory, 'train', 'one protocol for every model');
  assert.throws(() => parseTrainConfig({ testHistory: 'train+validation' }), /testHistory: 'train\+validation' applies only to a model that reads a history at test/);
  assert.throws(() => parseTrainConfig({ model: 'text-graph', recentItems: 0, testHistory: 'train+validation' }), /testHistory/);
});

test('graph aggregation options follow the config, server optimiser included (what both fedrec train and the bench use)', () => {
  const options = graphOptionsOf(parseTrainConfig({ model: 'text-graph', neighbors: 7, norm: 'sym', seed: 5 }));
  assert.deepEqual(
    [options.neighbors, options.layers, options.norm, options.selfLoop, options.sketchDim, options.personalRows, options.seed],
    [7, 1, 'sym', true, 128, 'own', 5],
  );
  assert.equal(options.serverOptimizer?.kind, 'adam');
  assert.equal(options.serverOptimizer?.lr, 0.1);
});
