// @exomaps/sdk: everything a client of the ExoMaps API needs.
export * from './client.js';
export * from './auth.js';
export * from './live.js';
export * from './simFeed.js';
export * from './asset.js';
export * from './rooms.js';
export { OPERATIONS, type OperationId } from './gen/access.gen.js';
export type { components, paths, operations } from './gen/schema.js';
