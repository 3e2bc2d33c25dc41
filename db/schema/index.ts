// The whole schema, one file per concern. drizzle-kit generates migrations from this entry.
export * from './areas.js';
export * from './elections.js';
export * from './people.js';
export * from './pipeline.js';
export * from './integrity.js';
export * from './ops.js';
