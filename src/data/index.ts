/** Public API of the data layer: shapes, readers, builder, synthetic data, splits, samplers. */
export type { Dataset, EvalPart, ImplicitSplit, Interactions, SideInfo, SplitMethod, UserItems } from './types.js';
export { DataError } from './errors.js';
export { buildUserItems, countPerUser, hasItem, rowOf } from './user-items.js';
export { DatasetBuilder, type DatasetBuilderOptions } from './builder.js';
export { loadDataset, type DatasetFormat, type LoadDatasetOptions } from './readers.js';
export { generateSynthetic, type SyntheticOptions } from './synthetic.js';
export { leaveOneOut, ratioSplit, userSplit, type LeaveOneOutOptions, type RatioSplitOptions, type UserSplit } from './split.js';
export { NegativeSampler, UserNegativeSampler } from './negatives.js';
